package validate

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Output formats of a report.
var formats = []string{"text", "json", "junit", "sarif"}

// Formats lists the output formats.
func Formats() []string { return slices.Clone(formats) }

// IsFormat reports whether name is an output format.
func IsFormat(name string) bool { return slices.Contains(formats, name) }

// Write prints a report in a format (see Formats).
func Write(w io.Writer, format string, rep *Report) error {
	switch format {
	case "text":
		return writeText(w, rep)
	case "json":
		return writeJSON(w, rep)
	case "junit":
		return writeJUnit(w, rep)
	case "sarif":
		return writeSARIF(w, rep)
	}
	return fmt.Errorf("unknown output format %q (formats: %s)", format, strings.Join(formats, ", "))
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
		switch r.Status {
		case Valid:
			c.Valid++
		case Invalid:
			c.Invalid++
		case Error:
			c.Errors++
		case Skipped:
			c.Skipped++
		}
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

func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

func (c Counts) String() string {
	return fmt.Sprintf("%d valid, %d invalid, %s, %d skipped", c.Valid, c.Invalid, plural(c.Errors, "error", "errors"), c.Skipped)
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
		fmt.Fprintf(&b, "%s: %s\n", name, plural(c.Total(), "object", "objects")+": "+c.String())
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
	fmt.Fprintf(&b, "%s%s: %s (Kubernetes %s, %s)\n", where, plural(total.Total(), "object", "objects"), total, rep.KubernetesVersion, mode)
	_, err := io.WriteString(w, b.String())
	return err
}
