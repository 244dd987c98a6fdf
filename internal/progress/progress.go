// Package progress shows one updating status line on a terminal and
// nothing anywhere else, so logs and pipes stay clean.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/term"
)

// Line is a status line. The zero value and a nil *Line print nothing.
type Line struct {
	mu    sync.Mutex
	w     io.Writer
	width int
}

// New returns a status line on w if w is a terminal, else a silent one.
func New(w io.Writer) *Line {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return &Line{w: w}
}

// Show replaces the status line with msg.
func (l *Line) Show(format string, args ...any) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	pad := ""
	if n := l.width - len(msg); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(l.w, "\r%s%s", msg, pad)
	l.width = len(msg)
}

// Clear removes the status line, so what follows starts on a clean line.
func (l *Line) Clear() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.width > 0 {
		fmt.Fprintf(l.w, "\r%s\r", strings.Repeat(" ", l.width))
		l.width = 0
	}
}
