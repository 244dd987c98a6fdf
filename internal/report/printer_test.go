package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
)

type options struct{ loud bool }

func testFormats() Formats[[]string, options] {
	return Formats[[]string, options]{
		{Name: "text", New: func(o options) Printer[[]string] {
			return PrinterFunc[[]string](func(w io.Writer, r []string) error {
				for _, s := range r {
					if o.loud {
						s += "!"
					}
					fmt.Fprintln(w, s)
				}
				return nil
			})
		}},
		{Name: "json", New: func(options) Printer[[]string] {
			return PrinterFunc[[]string](func(w io.Writer, r []string) error { _, err := fmt.Fprintf(w, "%q\n", r); return err })
		}},
	}
}

func TestFormatsBuildThePrinterTheyName(t *testing.T) {
	fs := testFormats()
	p, err := fs.New("text", options{loud: true})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := p.Print(&b, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "a!\nb!\n"; got != want {
		t.Errorf("text printed %q, want %q", got, want)
	}
	if got, want := fs.Names(), []string{"text", "json"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %q, want %q", got, want)
	}
	if !fs.IsFormat("json") || fs.IsFormat("yaml") || fs.IsFormat("") {
		t.Error("IsFormat accepts a name it does not list, or rejects one it does")
	}
}

func TestUnknownFormatSaysWhatToTypeInstead(t *testing.T) {
	p, err := testFormats().New("yaml", options{})
	if p != nil {
		t.Errorf("printer %v for an unknown format", p)
	}
	var ufe *UnknownFormatError
	if !errors.As(err, &ufe) || ufe.Format != "yaml" {
		t.Fatalf("err = %#v, want an *UnknownFormatError for yaml", err)
	}
	// The message is what users see after "envctl: ", and testscripts pin it.
	if got, want := err.Error(), `-o "yaml": want one of text, json`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	err = (&UnknownFormatError{Format: "yaml", Known: []string{"text", "json", "markdown", "junit"}})
	if got, want := err.Error(), `-o "yaml": want one of text, json, markdown, junit`; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func TestPluralAgreesWithItsNumber(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{Plural(0, "object", "objects"), "0 objects"},
		{Plural(1, "object is", "objects are"), "1 object is"},
		{Plural(2, "object is", "objects are"), "2 objects are"},
		{Plural(8431, "error", "errors"), "8431 errors"},
		{PluralGrouped(1, "field", "fields"), "1 field"},
		{PluralGrouped(8431, "field", "fields"), "8,431 fields"},
		{GroupDigits(0), "0"},
		{GroupDigits(999), "999"},
		{GroupDigits(1000), "1,000"},
		{GroupDigits(1234567), "1,234,567"},
		{GroupDigits(-1234), "-1,234"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}
