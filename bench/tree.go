package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// sampleTree samples the memory of a process and all its descendants
// until the returned stop is called, which returns the peak of their
// summed RSS and of their summed PSS (KiB). One process's Maxrss misses
// what a command spends in child processes, and a sum of each process's
// own peak overstates a tree whose members peak at different moments. PSS
// divides pages the processes share (an executable's text) among them, so
// its sum is the memory the tree takes from the machine; RSS counts those
// pages once per process.
func sampleTree(pid int, every time.Duration) (stop func() (rss, pss int64)) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var peakRSS, peakPSS int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			var rss, pss int64
			for _, p := range descendants(pid) {
				r, s := rollup(p)
				rss += r
				pss += s
			}
			peakRSS, peakPSS = max(peakRSS, rss), max(peakPSS, pss)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() (int64, int64) {
		close(done)
		wg.Wait()
		return peakRSS, peakPSS
	}
}

// descendants is pid and every process below it (Linux /proc).
func descendants(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", out[i]))
		for _, t := range tasks {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", out[i], t.Name()))
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// rollup reads a process's Rss and Pss in KiB; a process that has exited
// counts zero.
func rollup(pid int) (rss, pss int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "Rss:":
			rss = v
		case "Pss:":
			pss = v
		}
	}
	return rss, pss
}
