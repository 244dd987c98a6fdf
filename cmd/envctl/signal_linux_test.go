package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestASecondSIGTERMKillsWhatTheFirstCouldNotStop(t *testing.T) {
	// A ConfigMap larger than a pipe's buffer: envctl blocks writing it to
	// a stdout nobody reads, where no cancellation reaches.
	dir := t.TempDir()
	k := "configMapGenerator:\n- name: big\n  literals:\n  - V=" + strings.Repeat("x", 256<<10) + "\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "build", ".", "--no-cache")
	cmd.Args[0] = "envctl"
	cmd.Dir = dir
	cmd.Stdout = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	// Wait until the pipe is full, so envctl is blocked in its write.
	deadline := time.Now().Add(time.Minute)
	for {
		n, err := unix.IoctlGetInt(int(r.Fd()), unix.TIOCINQ) // FIONREAD: bytes waiting in the pipe
		if err != nil {
			t.Fatal(err)
		}
		if n >= 64<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pipe holds %d bytes after a minute; envctl is not blocked writing", n)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		t.Fatalf("the first SIGTERM ended envctl (%v) though its write cannot be cancelled", waitErr)
	case <-time.After(500 * time.Millisecond):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		var ee *exec.ExitError
		if !errors.As(waitErr, &ee) || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGTERM {
			t.Fatalf("after the second SIGTERM: %v, want death by SIGTERM", waitErr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("envctl still running 10 s after a second SIGTERM")
	}
}
