package report

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFileReports(t *testing.T) {
	formats := []string{"text", "json", "junit"}
	for _, c := range []struct {
		in   []string
		want string // the error; "" for none
	}{
		{[]string{"junit=drift.xml", "json=out/drift.json"}, ""},
		{[]string{"junit"}, `--report "junit": want FORMAT=FILE, FORMAT one of text, json, junit`},
		{[]string{"junit="}, `want FORMAT=FILE`},
		{[]string{"yaml=x.yaml"}, `--report "yaml=x.yaml": format "yaml": want one of text, json, junit`},
		{[]string{"json=-"}, `stdout is -o's`},
		{[]string{"json=a", "junit=./a"}, `--report "junit=./a": ./a is named twice`},
	} {
		got, err := ParseFileReports(c.in, formats)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%v: %v", c.in, err)
		case c.want == "" && len(got) != len(c.in):
			t.Errorf("%v: %v", c.in, got)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%v: err = %v, want %q", c.in, err, c.want)
		}
	}
}

func TestTeeWritesEveryFormatFromOneResult(t *testing.T) {
	dir := t.TempDir()
	fs := testFormats()
	text, _ := fs.New("text", options{})
	files := []FileReport{{Format: "json", Path: filepath.Join(dir, "r.json")}, {Format: "text", Path: filepath.Join(dir, "r.txt")}}
	p, err := Tee(text, files, func(f string) (Printer[[]string], error) { return fs.New(f, options{}) })
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Print(&out, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "a\nb\n" {
		t.Errorf("stdout = %q", out.String())
	}
	for path, want := range map[string]string{files[0].Path: "[\"a\" \"b\"]\n", files[1].Path: "a\nb\n"} {
		got, err := os.ReadFile(path)
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
}

func TestTeeWritesNothingWhenAPrinterFails(t *testing.T) {
	dir := t.TempDir()
	fail := PrinterFunc[[]string](func(io.Writer, []string) error { return errors.New("boom") })
	ok := PrinterFunc[[]string](func(w io.Writer, r []string) error { _, err := io.WriteString(w, "ok\n"); return err })
	files := []FileReport{{Format: "text", Path: filepath.Join(dir, "a.txt")}, {Format: "bad", Path: filepath.Join(dir, "b.txt")}}
	p, err := Tee[[]string](ok, files, func(f string) (Printer[[]string], error) {
		if f == "bad" {
			return fail, nil
		}
		return ok, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := p.Print(&out, nil); err == nil {
		t.Fatal("no error")
	}
	if out.Len() > 0 {
		t.Errorf("stdout = %q", out.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 0 {
		t.Errorf("left %v", entries)
	}
}

func TestTeeWithoutFilesIsThePrinter(t *testing.T) {
	text, _ := testFormats().New("text", options{})
	p, err := Tee(text, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Print(&b, []string{"x"}); err != nil || b.String() != "x\n" {
		t.Errorf("%q, %v", b.String(), err)
	}
}
