package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// stallServer accepts connections on 127.0.0.1 and never answers, so a
// render that fetches a remote resource from it waits until it is stopped.
// Each accepted connection is announced on accepted and, when the client
// side goes away, on closed.
type stallServer struct {
	url      string
	accepted chan struct{}
	closed   chan struct{}
}

func newStallServer(t *testing.T) *stallServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &stallServer{url: "http://" + ln.Addr().String(), accepted: make(chan struct{}, 16), closed: make(chan struct{}, 16)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted <- struct{}{}
			go func() {
				defer c.Close()
				b := make([]byte, 4096)
				for {
					if _, err := c.Read(b); err != nil {
						s.closed <- struct{}{}
						return
					}
				}
			}()
		}
	}()
	return s
}

// wait receives n events from ch or fails after d.
func wait(t *testing.T, ch <-chan struct{}, n int, d time.Duration, what string) {
	t.Helper()
	deadline := time.After(d)
	for i := 0; i < n; i++ {
		select {
		case <-ch:
		case <-deadline:
			t.Fatalf("%s: %d of %d within %s", what, i, n, d)
		}
	}
}

// startStalledBuild starts `envctl build --all -o OUT` on two environments
// whose remote resource never arrives, with every render beside another in
// a worker, and returns once both renders (one in envctl, one in its
// worker) are waiting on the server.
func startStalledBuild(t *testing.T) (cmd *exec.Cmd, stderr *bytes.Buffer, out string, srv *stallServer) {
	t.Helper()
	srv = newStallServer(t)
	dir := t.TempDir()
	for _, env := range []string{"a", "b"} {
		k := fmt.Sprintf("resources:\n- %s/%s.yaml\n", srv.url, env)
		p := filepath.Join(dir, "environments", env, "kustomization.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(k), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out = filepath.Join(dir, "out")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The test binary is envctl when its name says so (TestMain).
	cmd = exec.Command(exe, "build", "--all", "-o", out, "-j", "2", "--no-cache", "--timeout", "5m")
	cmd.Args[0] = "envctl"
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ENVCTL_WORKER_MIN_OBJECTS=0", "ENVCTL_INPROCESS=0")
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	wait(t, srv.accepted, 2, time.Minute, "renders waiting on the server")
	return cmd, stderr, out, srv
}

// noStaging fails if anything but the environments directory is left in
// out's parent: -o stages beside its target.
func noStaging(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s exists after a stopped build (err %v)", out, err)
	}
	ents, err := os.ReadDir(filepath.Dir(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Name() != "environments" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestSIGTERMStopsBuildAndWorkersLeavingNothing(t *testing.T) {
	cmd, stderr, out, srv := startStalledBuild(t)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("exit: %v, want exit status 2 (a stopped command is an error, not a signal death)\nstderr:\n%s", err, stderr)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("envctl still running 30 s after SIGTERM\nstderr:\n%s", stderr)
	}
	if want := "envctl: stopped (terminated signal received)\n"; stderr.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr, want)
	}
	// Both renders' connections close: envctl's own, and its worker's.
	wait(t, srv.closed, 2, 10*time.Second, "connections closed after SIGTERM")
	noStaging(t, out)
}

func TestKilledEnvctlTakesItsWorkersWithIt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux ties a child's life to its parent's (Pdeathsig)")
	}
	cmd, _, _, srv := startStalledBuild(t)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	// The worker's connection closes only if the worker died with envctl;
	// left alone it would wait out its 5-minute timeout.
	wait(t, srv.closed, 2, 10*time.Second, "connections closed after SIGKILL")
}
