package report

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Printer renders one command's findings, R, in one output format. A
// printer is deterministic: the same findings give the same bytes, with no
// timestamps, so golden files and CI logs change only when findings do.
type Printer[R any] interface {
	Print(w io.Writer, r R) error
}

// PrinterFunc is a Printer that is a plain function: most formats need no
// state beyond the options their constructor closes over.
type PrinterFunc[R any] func(w io.Writer, r R) error

// Print calls f.
func (f PrinterFunc[R]) Print(w io.Writer, r R) error { return f(w, r) }

// Format is one output format of a command: the name -o takes and the
// constructor of its printer, given the command's print options O.
type Format[R, O any] struct {
	Name string
	New  func(opts O) Printer[R]
}

// Formats is a command's output formats, in the order help, errors and
// shell completion list them. It is the command's only list: a name and
// its printer sit in the same entry, so a format cannot be listed without
// a printer or printed without being listed.
type Formats[R, O any] []Format[R, O]

// Names returns the format names, in order.
func (fs Formats[R, O]) Names() []string {
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	return names
}

// IsFormat reports whether name is one of the formats.
func (fs Formats[R, O]) IsFormat(name string) bool {
	return slices.ContainsFunc(fs, func(f Format[R, O]) bool { return f.Name == name })
}

// New returns the printer of the format called name, built with opts, or
// an *UnknownFormatError.
func (fs Formats[R, O]) New(name string, opts O) (Printer[R], error) {
	for _, f := range fs {
		if f.Name == name {
			return f.New(opts), nil
		}
	}
	return nil, &UnknownFormatError{Format: name, Known: fs.Names()}
}

// UnknownFormatError is an -o value that names none of a command's
// formats. Its message is the one users see, so that every command words
// it the same way: -o "yaml": want one of text, json, markdown, junit.
type UnknownFormatError struct {
	// Format is the name given.
	Format string
	// Known are the command's formats, in order.
	Known []string
}

func (e *UnknownFormatError) Error() string {
	return fmt.Sprintf("-o %q: want one of %s", e.Format, strings.Join(e.Known, ", "))
}
