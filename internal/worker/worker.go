// Package worker renders environments in child envctl processes.
//
// Two renders in one process share one heap and run measurably slower than
// the same two renders in two processes (docs/status.md: kustomize renders
// chase pointers through yaml.Node trees, and interleaved allocations cost
// them locality). So when renders run side by side, one runs in this
// process and each further one in a short-lived child: the same executable
// running the hidden Command, which renders one directory and writes the
// outcome to its stdout with overlay.WriteOutcome.
package worker

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/envctl/envctl/internal/overlay"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Command is the hidden subcommand a worker runs.
const Command = "__render"

// Serve is the worker's side: render dir and write the outcome to w. A
// render error is part of the outcome, not Serve's error, so the parent
// gets it with its type.
func Serve(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options, w io.Writer) error {
	r, err := overlay.Render(ctx, fsys, dir, opts)
	return overlay.WriteOutcome(w, r, err)
}

// Pool renders large environments one at a time in this process and any
// beyond that in children; small ones render in this process, side by
// side. Its zero value is not usable; see New.
type Pool struct {
	exe        string
	argv0      string
	minObjects int
	local      chan struct{}
}

// DefaultMinObjects is the size (overlay.EstimateObjects) from which a
// render that runs beside another gets a process of its own. A child
// pays again what this process has paid once (starting, kyaml parsing its
// built-in OpenAPI schema): `envctl __render` of one example environment
// took 0.16-0.20 s against 0.03 s for `envctl version`. Renders under a
// few hundred objects take well under a second, so sharing a heap costs
// them less than that; with every render in a child, `build --all` on the example
// repository (about 25 objects per environment) was 0.36-0.49 s against
// 0.30-0.33 s in one process (six alternating /usr/bin/time runs each).
const DefaultMinObjects = 500

// New returns a pool whose children run exe. argv0 is what the children
// see as their name: a test binary standing in for envctl dispatches on
// it. Renders estimated below minObjects stay in this process.
func New(exe, argv0 string, minObjects int) *Pool {
	return &Pool{exe: exe, argv0: argv0, minObjects: minObjects, local: make(chan struct{}, 1)}
}

// Render is overlay.Render, in this process or in a child (see Pool).
// Children read the real filesystem, so fsys must be the disk (Render is
// not for in-memory trees).
func (p *Pool) Render(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options) (*overlay.Result, error) {
	if p.minObjects > 0 && overlay.EstimateObjects(fsys, dir) < p.minObjects {
		return overlay.Render(ctx, fsys, dir, opts)
	}
	select {
	case p.local <- struct{}{}:
		defer func() { <-p.local }()
		return overlay.Render(ctx, fsys, dir, opts)
	default:
		return p.child(ctx, dir, opts)
	}
}

func (p *Pool) child(ctx context.Context, dir string, opts overlay.Options) (*overlay.Result, error) {
	if opts.RemoteTimeout <= 0 {
		opts.RemoteTimeout = overlay.DefaultRemoteTimeout
	}
	args := []string{Command, "--timeout", opts.RemoteTimeout.String()}
	if opts.NoDecrypt {
		args = append(args, "--no-decrypt")
	}
	cmd := exec.CommandContext(ctx, p.exe, append(args, "--", dir)...)
	cmd.Args[0] = p.argv0
	// An interrupt lets the child stop kustomize's git clones and clean
	// their temporary directories; a child that ignores it is killed.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGINT) }
	cmd.WaitDelay = 5 * time.Second
	dieWithParent(cmd)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if runErr == nil {
		r, renderErr, err := overlay.ReadOutcome(&stdout)
		if err == nil {
			return r, renderErr
		}
		runErr = fmt.Errorf("unreadable result: %w", err)
	}
	msg := strings.TrimSpace(stderr.String())
	if len(msg) > 2000 {
		msg = "…" + msg[len(msg)-2000:]
	}
	if msg != "" {
		msg = ": " + msg
	}
	return nil, fmt.Errorf("%s: render worker failed (%v)%s", dir, runErr, msg)
}

// Self returns the running executable for New, or "" when it cannot be
// found (then renders stay in process).
func Self() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}
