package overlay

import (
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"time"
)

// outcome is one render's result or error as it crosses a process boundary
// (a render worker's stdout). It carries every field, the unexported one
// included, and the error's type, so that what the parent reads back
// caches, prints and exits exactly as the same render in process would.
type outcome struct {
	YAML    []byte
	Objects int
	Inputs  []Observation
	Remote  []string
	Wrote   bool

	Decrypted    []string
	Placeholders bool

	Err *wireError
}

type wireError struct {
	Kind    string // "render", "remote-timeout", "canceled", "deadline" or "other"
	Dir     string
	File    string
	Remote  []string
	URL     string
	Timeout time.Duration
	Cause   *Cause
	Secret  bool
	Msg     string // the inner message for "render", the whole one otherwise
}

// WriteOutcome encodes what Render returned for ReadOutcome.
func WriteOutcome(w io.Writer, r *Result, err error) error {
	var o outcome
	switch {
	case err != nil:
		o.Err = toWire(err)
	case r == nil:
		return errors.New("overlay: WriteOutcome with neither a result nor an error")
	default:
		o = outcome{YAML: r.YAML, Objects: r.Objects, Inputs: r.Inputs, Remote: r.Remote, Wrote: r.wrote, Decrypted: r.Decrypted, Placeholders: r.Placeholders}
	}
	return gob.NewEncoder(w).Encode(o)
}

// ReadOutcome decodes what WriteOutcome wrote. The first error is the
// render's; the second is a failure to read the encoding itself.
func ReadOutcome(rd io.Reader) (*Result, error, error) {
	var o outcome
	if err := gob.NewDecoder(rd).Decode(&o); err != nil {
		return nil, nil, err
	}
	if o.Err != nil {
		return nil, o.Err.toError(), nil
	}
	return &Result{YAML: o.YAML, Objects: o.Objects, Inputs: o.Inputs, Remote: o.Remote, wrote: o.Wrote, Decrypted: o.Decrypted, Placeholders: o.Placeholders}, nil, nil
}

func toWire(err error) *wireError {
	var re *Error
	var te *RemoteTimeoutError
	switch {
	case errors.As(err, &te):
		return &wireError{Kind: "remote-timeout", Dir: te.Dir, URL: te.URL, Timeout: te.Timeout}
	case errors.As(err, &re):
		return &wireError{Kind: "render", Dir: re.Dir, File: re.File, Remote: re.Remote, Cause: re.Cause, Secret: re.Secret, Msg: re.Err.Error()}
	case errors.Is(err, context.Canceled):
		return &wireError{Kind: "canceled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &wireError{Kind: "deadline"}
	}
	return &wireError{Kind: "other", Msg: err.Error()}
}

func (w *wireError) toError() error {
	switch w.Kind {
	case "remote-timeout":
		return &RemoteTimeoutError{Dir: w.Dir, URL: w.URL, Timeout: w.Timeout}
	case "render":
		return &Error{Dir: w.Dir, File: w.File, Remote: w.Remote, Cause: w.Cause, Secret: w.Secret, Err: errors.New(w.Msg)}
	case "canceled":
		return context.Canceled
	case "deadline":
		return context.DeadlineExceeded
	case "other":
		return errors.New(w.Msg)
	}
	return fmt.Errorf("render worker sent an error of unknown kind %q: %s", w.Kind, w.Msg)
}
