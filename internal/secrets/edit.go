package secrets

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/envctl/envctl/internal/atomicwrite"
)

// EditOptions say how EditFile runs the editor.
type EditOptions struct {
	// Editor is a shell command ("vi", "code -w"); the temporary file's
	// path is passed to it as its last argument, as git does.
	Editor string
	Keys   *Keyring
	// The editor's streams: the terminal.
	In          io.Reader
	Out, ErrOut io.Writer
	// Reopen, when content that does not parse comes back, asks on In
	// whether to edit it again rather than losing the edit (the CLI sets
	// it when In is a terminal, as sops does).
	Reopen bool
}

// EditorError is an editor that failed or was stopped: the file is left
// as it was.
type EditorError struct {
	File, Editor string
	Err          error
}

func (e *EditorError) Error() string {
	return fmt.Sprintf("%s: the editor (%s) %v; the file is unchanged", e.File, e.Editor, e.Err)
}

func (e *EditorError) Unwrap() error { return e.Err }

// EditFile decrypts file into a private temporary file, runs the editor
// on it, and re-encrypts what the editor changed (File.Update). The
// temporary file is 0600 in a 0700 directory of its own, and is removed
// when the editor is done, whatever happened: an editor that failed, a
// SIGTERM or SIGHUP (passed on to the editor first), content that does
// not parse. SIGINT is left to the editor, as git leaves it: it comes
// from the terminal the editor runs in, and an editor such as vi uses it
// to cancel a command, not to quit. Only SIGKILL leaves the file behind.
func EditFile(file string, opts EditOptions) (changed bool, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	if !IsEncrypted(file, b) {
		return false, &FileError{File: file, Problem: "is not a SOPS file (encrypt it first: envctl secrets encrypt " + file + ")"}
	}
	f, err := Parse(file, b)
	if err != nil {
		return false, err
	}
	plain, err := f.Decrypt(opts.Keys)
	if err != nil {
		return false, err
	}
	// Registered before the plaintext is written and stopped after it
	// is removed: in between, these signals come to this channel and
	// never kill envctl with the file on disk.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	dir, err := os.MkdirTemp("", "envctl-edit-")
	if err != nil {
		return false, err
	}
	defer os.RemoveAll(dir)
	if err := os.Chmod(dir, 0o700); err != nil {
		return false, err
	}
	// The file's own name, so that the editor picks its syntax.
	tmp := filepath.Join(dir, filepath.Base(file))
	if err := writePrivate(tmp, plain); err != nil {
		return false, err
	}
	var out []byte
	for {
		if err := runEditor(opts, tmp, sigs); err != nil {
			return false, &EditorError{File: file, Editor: opts.Editor, Err: err}
		}
		next, err := os.ReadFile(tmp)
		if err != nil {
			return false, err
		}
		out, changed, err = f.Update(next, opts.Keys)
		var fe *FileError
		if err != nil && opts.Reopen && errors.As(err, &fe) && strings.HasPrefix(fe.Problem, newContentProblem) {
			if again(opts, err, sigs) {
				continue
			}
		}
		if err != nil || !changed {
			return false, err
		}
		break
	}
	if s := stopSignal(sigs); s != nil {
		return false, &EditorError{File: file, Editor: opts.Editor, Err: fmt.Errorf("was done, but envctl received %v before writing", s)}
	}
	return true, atomicwrite.File(file, out)
}

func writePrivate(path string, b []byte) error {
	w, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// again asks whether to edit content that did not parse once more: Enter
// says yes; end of input or a signal (Ctrl-C) says no.
func again(opts EditOptions, problem error, sigs <-chan os.Signal) bool {
	for len(sigs) > 0 {
		<-sigs // the editor's Ctrl-Cs, not an answer
	}
	fmt.Fprintf(opts.ErrOut, "%v\nPress Enter to edit it again, or Ctrl-C to leave the file as it was: ", problem)
	line := make(chan error, 1)
	go func() {
		// A byte at a time: what follows the line is not this prompt's.
		var b [1]byte
		for {
			n, err := opts.In.Read(b[:])
			if n == 1 && b[0] == '\n' {
				line <- nil
				return
			}
			if err != nil {
				line <- err
				return
			}
		}
	}()
	select {
	case err := <-line:
		return err == nil
	case <-sigs:
		fmt.Fprintln(opts.ErrOut)
		return false
	}
}

// stopSignal returns a SIGTERM or SIGHUP received (and not yet handled),
// or nil.
func stopSignal(sigs <-chan os.Signal) os.Signal {
	for {
		select {
		case s := <-sigs:
			if s != os.Interrupt {
				return s
			}
		default:
			return nil
		}
	}
}

// runEditor runs the editor on path in the foreground and waits for it;
// a SIGTERM or SIGHUP on sigs is passed on to it.
func runEditor(opts EditOptions, path string, sigs <-chan os.Signal) error {
	if opts.Editor == "" {
		return errors.New("is not set")
	}
	// Through sh, so that EDITOR="code -w" works, as git runs it; with
	// exec where the editor is a plain command, so that a signal passed on
	// reaches the editor itself (dash does not exec a -c command's last
	// word, and would leave the editor running on the terminal).
	script := opts.Editor + ` "$@"`
	if plainCommand(opts.Editor) {
		script = "exec " + script
	}
	cmd := exec.Command("sh", "-c", script, opts.Editor, path)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.In, opts.Out, opts.ErrOut
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("did not start: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var stopped os.Signal
	for {
		select {
		case s := <-sigs:
			if s == os.Interrupt {
				continue
			}
			stopped = s
			_ = cmd.Process.Signal(s)
		case err := <-done:
			if stopped != nil {
				return fmt.Errorf("was stopped: envctl received %v", stopped)
			}
			var ee *exec.ExitError
			if errors.As(err, &ee) && ee.ExitCode() >= 0 {
				return fmt.Errorf("exited with status %d", ee.ExitCode())
			}
			if err != nil {
				return err
			}
			return nil
		}
	}
}

// plainCommand reports whether a shell command is words only: no
// operators, substitutions or leading variable assignments, so that
// "exec " in front of it means the same.
func plainCommand(c string) bool {
	first, _, _ := strings.Cut(strings.TrimSpace(c), " ")
	return !strings.ContainsAny(c, ";&|<>()$`\n") && !strings.Contains(first, "=")
}
