package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/envctl/envctl/internal/worker"
)

// Exit codes, decided here and nowhere else.
const (
	// ExitOK means the command did what was asked and found nothing wrong.
	ExitOK = 0
	// ExitFindings means the command ran and found something: invalid
	// objects, drift. Scripts branch on it.
	ExitFindings = 1
	// ExitError means the command could not do its job: bad usage, bad
	// input, an unreachable cluster.
	ExitError = 2
)

// IOStreams are the standard streams, injected so tests run the whole CLI
// in-process and capture what it prints.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// Stdio returns the process's streams.
func Stdio() IOStreams {
	return IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}
}

// FindingsError reports that a command ran and found problems. Its message
// is a summary; the findings were already printed.
type FindingsError struct{ Summary string }

func (e *FindingsError) Error() string { return e.Summary }

// usageError is a command-line mistake: the message says what to fix.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// Run executes envctl with args and returns the process exit code.
func Run(args []string, s IOStreams) int {
	f := NewFactory(s)
	f.Self = worker.Self()
	cmd := NewRootCmd(f)
	cmd.SetArgs(args)
	cmd.SetIn(s.In)
	cmd.SetOut(s.Out)
	cmd.SetErr(s.ErrOut)
	// Ctrl-C, and SIGTERM (what CI runners and Kubernetes send to stop a
	// job), cancel renders and cluster reads instead of killing the process
	// halfway through writing output: -o DIR is left as it was, and worker
	// processes are stopped.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// After the first signal, a second one kills at once, as it would
	// without envctl's handler: the way out of whatever does not heed the
	// first (a write to a pipe nobody reads).
	context.AfterFunc(ctx, stop)
	executed, err := cmd.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var findings *FindingsError
	if errors.As(err, &findings) {
		if findings.Summary != "" {
			fmt.Fprintf(s.ErrOut, "envctl: %s\n", findings.Summary)
		}
		return ExitFindings
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		// One line, not "context canceled" once per environment.
		fmt.Fprintf(s.ErrOut, "envctl: stopped (%v)\n", context.Cause(ctx))
		return ExitError
	}
	fmt.Fprintf(s.ErrOut, "envctl: %s\n", err)
	var ue *usageError
	if errors.As(err, &ue) && executed != nil {
		fmt.Fprintf(s.ErrOut, "Run '%s --help' for usage.\n", executed.CommandPath())
	}
	return ExitError
}
