package report

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/envctl/envctl/internal/atomicwrite"
)

// FileReport is one --report FORMAT=FILE: the findings written in another
// format to a file, beside the -o report on stdout, from the same run. CI
// wants a JUnit file for its test view and markdown for a summary, and
// two runs of a command that reads a cluster could see two clusters.
type FileReport struct {
	Format string
	Path   string
}

// ParseFileReports reads --report values (FORMAT=FILE) against a
// command's format names. Each file may be named once; "-" is refused,
// since stdout is -o's.
func ParseFileReports(values []string, formats []string) ([]FileReport, error) {
	var out []FileReport
	seen := map[string]bool{}
	for _, v := range values {
		format, path, ok := strings.Cut(v, "=")
		switch {
		case !ok || path == "":
			return nil, fmt.Errorf("--report %q: want FORMAT=FILE, FORMAT one of %s", v, strings.Join(formats, ", "))
		case !slices.Contains(formats, format):
			return nil, fmt.Errorf("--report %q: format %q: want one of %s", v, format, strings.Join(formats, ", "))
		case path == "-":
			return nil, fmt.Errorf("--report %q: stdout is -o's; name a file", v)
		}
		clean := filepath.Clean(path)
		if seen[clean] {
			return nil, fmt.Errorf("--report %q: %s is named twice", v, path)
		}
		seen[clean] = true
		out = append(out, FileReport{Format: format, Path: path})
	}
	return out, nil
}

// Tee returns a printer that prints with p and writes each file report
// with the printer newPrinter gives for its format. Every report is
// rendered before anything is written, so a printer's error leaves no
// file and no stdout; each file is replaced whole (atomicwrite), never
// left half-written.
func Tee[R any](p Printer[R], files []FileReport, newPrinter func(format string) (Printer[R], error)) (Printer[R], error) {
	if len(files) == 0 {
		return p, nil
	}
	printers := make([]Printer[R], len(files))
	for i, f := range files {
		fp, err := newPrinter(f.Format)
		if err != nil {
			return nil, err
		}
		printers[i] = fp
	}
	return PrinterFunc[R](func(w io.Writer, r R) error {
		var out bytes.Buffer
		if err := p.Print(&out, r); err != nil {
			return err
		}
		data := make([][]byte, len(files))
		for i, fp := range printers {
			var b bytes.Buffer
			if err := fp.Print(&b, r); err != nil {
				return err
			}
			data[i] = b.Bytes()
		}
		for i, f := range files {
			if err := atomicwrite.File(f.Path, data[i]); err != nil {
				return fmt.Errorf("--report %s=%s: %w", f.Format, f.Path, err)
			}
		}
		_, err := w.Write(out.Bytes())
		return err
	}), nil
}
