package report

import (
	"io"
	"os"

	"golang.org/x/term"
)

// Color reports whether a report in format, written to w, should carry
// ANSI colours: only the text format, only when w is a terminal (a file or
// pipe gets plain bytes, as a CI log and a golden file want), and never
// when NO_COLOR is set to a non-empty value (https://no-color.org).
func Color(w io.Writer, format string) bool {
	return colorFor(format, os.Getenv("NO_COLOR"), isTerminal(w))
}

// colorFor is Color's decision without the environment and the file
// descriptor, so that it is tested on every combination.
func colorFor(format, noColor string, terminal bool) bool {
	return format == "text" && terminal && noColor == ""
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
