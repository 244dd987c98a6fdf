package validate

import (
	"fmt"
	"io"
	"strings"

	"github.com/envctl/envctl/internal/report"
)

// printers are validate's output formats. They take no options.
var printers = report.Formats[*Report, struct{}]{
	{Name: "text", New: fixed(writeText)},
	{Name: "json", New: fixed(writeJSON)},
	{Name: "junit", New: fixed(writeJUnit)},
	{Name: "sarif", New: fixed(writeSARIF)},
	{Name: "markdown", New: fixed(writeMarkdown)},
}

// fixed is the constructor of a printer that needs no options.
func fixed(write func(io.Writer, *Report) error) func(struct{}) report.Printer[*Report] {
	return func(struct{}) report.Printer[*Report] { return report.PrinterFunc[*Report](write) }
}

// Formats lists the output formats, for flags, help and completion.
func Formats() []string { return printers.Names() }

// IsFormat reports whether name is an output format.
func IsFormat(name string) bool { return printers.IsFormat(name) }

// NewPrinter returns the printer of a format (see Formats). An unknown
// format is a *report.UnknownFormatError.
func NewPrinter(format string) (report.Printer[*Report], error) {
	return printers.New(format, struct{}{})
}

// Write prints a report in a format (see Formats).
func Write(w io.Writer, format string, rep *Report) error {
	p, err := NewPrinter(format)
	if err != nil {
		return err
	}
	return p.Print(w, rep)
}

// groups splits results by environment, or by file for -f input.
func groups(rep *Report) []group {
	var out []group
	idx := map[string]int{}
	for i := range rep.Results {
		r := &rep.Results[i]
		name := r.Env
		if name == "" {
			name = r.Source.File
		}
		j, ok := idx[name]
		if !ok {
			j = len(out)
			idx[name] = j
			out = append(out, group{name: name, env: r.Env != ""})
		}
		out[j].results = append(out[j].results, r)
	}
	return out
}

type group struct {
	name    string
	env     bool
	results []*Result
}

func (g group) counts() Counts {
	var c Counts
	for _, r := range g.results {
		c.add(r.Status)
	}
	return c
}

// problemWhere is "spec.replicas" or `data["flags.json"] /a/b`.
func problemWhere(p Problem) string {
	s := FieldPath(p.Path)
	if p.Pointer != "" {
		s += " " + p.Pointer
	}
	return s
}

// problemText is one problem on one line: where, what, and which rule.
func problemText(p Problem) string {
	rule := p.Rule
	if p.Schema != "" {
		rule += " " + p.Schema
	}
	return fmt.Sprintf("%s: %s [%s]", problemWhere(p), p.Message, rule)
}

func (c Counts) String() string {
	return fmt.Sprintf("%d valid, %d invalid, %s, %d skipped", c.Valid, c.Invalid, report.Plural(c.Errors, "error", "errors"), c.Skipped)
}

func writeText(w io.Writer, rep *Report) error {
	var b strings.Builder
	gs := groups(rep)
	for _, g := range gs {
		c := g.counts()
		name := g.name
		switch name {
		case "":
			name = "(no file)"
		case "-":
			name = "stdin"
		}
		fmt.Fprintf(&b, "%s: %s", name, report.Plural(c.Total(), "object", "objects")+": "+c.String())
		if ver, ok := rep.EnvVersions[g.name]; ok && g.env {
			fmt.Fprintf(&b, " (Kubernetes %s)", ver)
		}
		b.WriteByte('\n')
		for _, r := range g.results {
			if r.Status != Invalid && r.Status != Error {
				continue
			}
			fmt.Fprintf(&b, "  %s", r.Object)
			if src := r.Source.String(); src != "" && (g.env || r.Source.File != g.name) {
				fmt.Fprintf(&b, " (%s)", src)
			} else if r.Source.Line > 0 {
				fmt.Fprintf(&b, " (line %d)", r.Source.Line)
			}
			b.WriteByte('\n')
			if r.Status == Error {
				fmt.Fprintf(&b, "    error: %s\n", r.Reason)
			}
			for _, p := range r.Problems {
				b.WriteString("    " + problemText(p))
				if p.Line > 0 && p.Line != r.Source.Line {
					fmt.Fprintf(&b, " (line %d)", p.Line)
				}
				b.WriteByte('\n')
			}
		}
	}
	total := rep.Count(nil)
	where := ""
	switch {
	case len(rep.Envs) > 1:
		where = fmt.Sprintf("%d environments, ", len(rep.Envs))
	case len(gs) > 1:
		where = fmt.Sprintf("%d files, ", len(gs))
	}
	mode := "strict"
	if !rep.Strict {
		mode = "not strict"
	}
	fmt.Fprintf(&b, "%s%s: %s (Kubernetes %s, %s)\n", where, report.Plural(total.Total(), "object", "objects"), total, strings.Join(rep.Versions(), ", "), mode)
	_, err := io.WriteString(w, b.String())
	return err
}
