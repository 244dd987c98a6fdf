// Command peakrss runs a command and writes its peak memory to a file:
//
//	peakrss -o FILE -- NAME ARG...
//
// FILE gets "maxrss anon floor", KiB: the command's peak resident set
// (rusage), the peak of its anonymous memory (RssAnon sampled every
// millisecond: what it allocated, without the executable's pages), and
// the floor under the first (this process's own peak).
//
// Why a process of its own: Linux keeps a process's rusage peak across
// exec, and Go starts a child by sharing the parent's memory until exec
// (vfork), so a child of a benchmark holding a 10 MB corpus "peaks" at
// the benchmark's own size: kubeconform's 39 MiB read as 94 MiB. Started
// from this small process, the floor is a few MiB.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

func main() {
	out := flag.String("o", "", "file for the figures")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: peakrss -o FILE -- NAME ARG...")
		os.Exit(2)
	}
	floor := status(os.Getpid(), "VmHWM:")
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(127)
	}
	done := make(chan struct{})
	anon := make(chan int64)
	go func() {
		var peak int64
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			peak = max(peak, status(cmd.Process.Pid, "RssAnon:"))
			select {
			case <-done:
				anon <- peak
				return
			case <-t.C:
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	a := <-anon
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(127)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if err := os.WriteFile(*out, fmt.Appendf(nil, "%d %d %d\n", ru.Maxrss, a, floor), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "peakrss:", err)
		os.Exit(127)
	}
	os.Exit(code)
}

// status reads a KiB field of /proc/PID/status; 0 once the process is
// gone.
func status(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(field)); ok {
			f := bytes.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(string(f[0]), 10, 64)
				return n
			}
		}
	}
	return 0
}
