package report

import (
	"bytes"
	"io"
	"os"
	"testing"
)

func TestColorOnlyForTextOnATerminalWithoutNoColor(t *testing.T) {
	for _, c := range []struct {
		name     string
		format   string
		noColor  string
		terminal bool
		want     bool
	}{
		{"text on a terminal is coloured", "text", "", true, true},
		{"NO_COLOR=1 turns colour off", "text", "1", true, false},
		{"any non-empty NO_COLOR turns colour off", "text", "false", true, false},
		{"text to a file or pipe is plain", "text", "", false, false},
		{"json on a terminal is plain", "json", "", true, false},
		{"junit on a terminal is plain", "junit", "", true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := colorFor(c.format, c.noColor, c.terminal); got != c.want {
				t.Errorf("colorFor(%q, NO_COLOR=%q, terminal %v) = %v, want %v", c.format, c.noColor, c.terminal, got, c.want)
			}
		})
	}
}

func TestColorIsOffForWhatIsNotATerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, w := range []io.Writer{f, &bytes.Buffer{}} {
		if Color(w, "text") {
			t.Errorf("Color(%T) is true", w)
		}
	}
}
