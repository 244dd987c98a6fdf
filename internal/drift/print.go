package drift

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Printer renders reports (one per environment). Every printer is
// deterministic: same reports, same bytes; no timestamps.
type Printer interface {
	Print(w io.Writer, reports []*Report) error
}

// WriteOptions configure printers.
type WriteOptions struct {
	// Color turns on ANSI colours (text only). The CLI decides, e.g. when
	// stdout is a terminal and NO_COLOR is unset.
	Color bool
	// ShowInSync lists objects that are in sync too (text and markdown;
	// JSON and JUnit always include them).
	ShowInSync bool
	// MaxChars bounds the markdown output, in characters; 0 means
	// MarkdownLimit, GitHub's limit for a comment body.
	MaxChars int
}

// MarkdownLimit is the largest comment body GitHub accepts, in characters.
const MarkdownLimit = 65536

var formats = []string{"text", "json", "markdown", "junit"}

// Formats returns the names of the printers, for flags and help.
func Formats() []string { return slices.Clone(formats) }

// IsFormat reports whether name names a printer.
func IsFormat(name string) bool { return slices.Contains(formats, name) }

// NewPrinter returns the printer called name: text, json, markdown or
// junit.
func NewPrinter(name string, opts WriteOptions) (Printer, error) {
	switch name {
	case "text":
		return textPrinter{opts}, nil
	case "json":
		return jsonPrinter{}, nil
	case "markdown":
		return markdownPrinter{opts}, nil
	case "junit":
		return junitPrinter{}, nil
	}
	return nil, fmt.Errorf("unknown output format %q (known: %s)", name, strings.Join(formats, ", "))
}

// Write prints reports with the printer called format.
func Write(w io.Writer, format string, reports []*Report, opts WriteOptions) error {
	p, err := NewPrinter(format, opts)
	if err != nil {
		return err
	}
	return p.Print(w, reports)
}

// objectTitle is how printers name an object: its ID, with the base name
// for a renamed hashed ConfigMap or Secret.
func objectTitle(o ObjectResult) string {
	id := o.ID
	if o.Renamed != nil {
		id.Name = o.Renamed.Base
	}
	return id.String()
}

// statusPhrase describes an object's status in a few words.
func statusPhrase(o ObjectResult) string {
	switch o.Status {
	case StatusChanged:
		n := len(o.Changes)
		if n == 0 {
			return "changed"
		}
		return fmt.Sprintf("changed (%s)", plural(n, "field"))
	case StatusMissing:
		return "missing from the cluster"
	case StatusOrphaned:
		if o.SupersededBy != "" {
			return "orphaned (old generation, superseded by " + o.SupersededBy + ")"
		}
		return "orphaned (in the cluster, not in the repository)"
	}
	return "in sync"
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%s %ss", groupDigits(n), word)
}

// groupDigits writes n with thousands separators: 8,431.
func groupDigits(n int) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + groupDigits(-n)
	}
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// summaryLine: "3 changed, 1 missing, 1 orphaned, 14 in sync (19 objects);
// 1 renamed, 2 workloads roll".
func summaryLine(s Summary) string {
	var parts []string
	for _, p := range []struct {
		n    int
		word string
	}{{s.Changed, "changed"}, {s.Missing, "missing"}, {s.Orphaned, "orphaned"}, {s.InSync, "in sync"}} {
		if p.n > 0 {
			parts = append(parts, groupDigits(p.n)+" "+p.word)
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	if s.Changed+s.Missing+s.Orphaned == 0 {
		return "in sync (" + plural(s.Objects, "object") + ")"
	}
	line := strings.Join(parts, ", ") + " (" + plural(s.Objects, "object") + ")"
	if s.Renamed > 0 {
		line += "; " + groupDigits(s.Renamed) + " renamed, " + plural(s.Rolling, "workload") + " will roll"
	}
	return line
}

// changeNote is the parenthesised remark after a change, or "".
func changeNote(c FieldChange) string {
	var notes []string
	switch c.Kind {
	case FieldRemoved:
		notes = append(notes, "no longer in the repository")
	case FieldExtra:
		s := "only in the cluster, not removed by apply"
		if len(c.Managers) > 0 {
			s += "; set by " + strings.Join(c.Managers, ", ")
		}
		notes = append(notes, s)
	}
	if c.FollowsRename != nil {
		notes = append(notes, "rolls: "+c.FollowsRename.Kind+" "+baseName(c.FollowsRename.Name)+" renamed")
	}
	if len(notes) == 0 {
		return ""
	}
	return "(" + strings.Join(notes, "; ") + ")"
}

func baseName(name string) string {
	if b, ok := hashedBase(name); ok {
		return b
	}
	return name
}

// changeSymbol: ~ changed, + added, - removed, ! extra.
func changeSymbol(k ChangeKind) string {
	switch k {
	case FieldAdded:
		return "+"
	case FieldRemoved:
		return "-"
	case FieldExtra:
		return "!"
	}
	return "~"
}

// changeValues renders the values of a one-line change: "old → new", or
// the one value of an added, removed or extra field.
func changeValues(c FieldChange) string {
	if c.Kind == FieldChanged {
		if c.Old.Masked() || c.New.Masked() {
			return "(secret value changed)"
		}
		return c.Old.String() + " → " + c.New.String()
	}
	if c.Kind == FieldAdded {
		return c.New.String()
	}
	return c.Old.String()
}

// drifted returns the objects a printer lists.
func listed(r *Report, showInSync bool) []ObjectResult {
	if showInSync {
		return r.Objects
	}
	return slices.DeleteFunc(slices.Clone(r.Objects), func(o ObjectResult) bool { return o.Status == StatusInSync })
}

func envName(r *Report) string {
	if r.Environment == "" {
		return "default"
	}
	return r.Environment
}
