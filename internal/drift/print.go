package drift

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/envctl/envctl/internal/report"
)

// WriteOptions configure printers.
type WriteOptions struct {
	// Color turns on ANSI colours (text only). The CLI decides with
	// report.Color: text, to a terminal, NO_COLOR unset.
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

// printers are envctl diff's output formats. Every printer takes the
// reports of one run, one per environment.
var printers = report.Formats[[]*Report, WriteOptions]{
	{Name: "text", New: func(o WriteOptions) report.Printer[[]*Report] { return textPrinter{o} }},
	{Name: "json", New: func(WriteOptions) report.Printer[[]*Report] { return jsonPrinter{} }},
	{Name: "markdown", New: func(o WriteOptions) report.Printer[[]*Report] { return markdownPrinter{o} }},
	{Name: "junit", New: func(WriteOptions) report.Printer[[]*Report] { return junitPrinter{} }},
}

// Formats returns the names of the printers, for flags, help and
// completion.
func Formats() []string { return printers.Names() }

// IsFormat reports whether name names a printer.
func IsFormat(name string) bool { return printers.IsFormat(name) }

// NewPrinter returns the printer called name: text, json, markdown or
// junit. An unknown name is a *report.UnknownFormatError.
func NewPrinter(name string, opts WriteOptions) (report.Printer[[]*Report], error) {
	return printers.New(name, opts)
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
		return fmt.Sprintf("changed (%s)", report.PluralGrouped(n, "field", "fields"))
	case StatusMissing:
		return "missing from the cluster"
	case StatusAdded:
		return "added"
	case StatusRemoved:
		if o.SupersededBy != "" {
			return "removed (old generation, superseded by " + o.SupersededBy + ")"
		}
		return "removed"
	case StatusUnchanged:
		return "unchanged"
	case StatusOrphaned:
		if o.SupersededBy != "" {
			return "orphaned (old generation, superseded by " + o.SupersededBy + ")"
		}
		return "orphaned (in the cluster, not in the repository)"
	}
	return "in sync"
}

// summaryLine: "3 changed, 1 missing, 1 orphaned, 14 in sync (19 objects);
// 1 renamed, 2 workloads roll".
func summaryLine(s Summary) string {
	var parts []string
	for _, p := range []struct {
		n    int
		word string
	}{{s.Changed, "changed"}, {s.Added, "added"}, {s.Removed, "removed"}, {s.Missing, "missing"}, {s.Orphaned, "orphaned"}, {s.InSync, "in sync"}, {s.Unchanged, "unchanged"}} {
		if p.n > 0 {
			parts = append(parts, report.GroupDigits(p.n)+" "+p.word)
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	if s.Changed+s.Missing+s.Orphaned+s.Added+s.Removed == 0 {
		if s.Unchanged > 0 {
			return "no changes (" + report.PluralGrouped(s.Objects, "object", "objects") + ")"
		}
		return "in sync (" + report.PluralGrouped(s.Objects, "object", "objects") + ")"
	}
	line := strings.Join(parts, ", ") + " (" + report.PluralGrouped(s.Objects, "object", "objects") + ")"
	if s.Renamed > 0 {
		line += "; " + report.GroupDigits(s.Renamed) + " renamed, " + report.PluralGrouped(s.Rolling, "workload", "workloads") + " will roll"
	}
	return line
}

// changeNote is the parenthesised remark after a change, or "".
// Against a baseline render a removed field needs no remark.
func changeNote(c FieldChange, baseline bool) string {
	var notes []string
	switch c.Kind {
	case FieldRemoved:
		if !baseline {
			notes = append(notes, "no longer in the repository")
		}
	case FieldExtra:
		s := "only in the cluster, not removed by apply"
		if len(c.SetBy) == 0 && len(c.Managers) > 0 {
			s += "; set by " + strings.Join(c.Managers, ", ")
		}
		notes = append(notes, s)
	}
	if by := setByNote(c); by != "" {
		notes = append(notes, by)
	}
	if c.FollowsRename != nil {
		notes = append(notes, "rolls: "+c.FollowsRename.Kind+" "+baseName(c.FollowsRename.Name)+" renamed")
	}
	if len(notes) == 0 {
		return ""
	}
	return "(" + strings.Join(notes, "; ") + ")"
}

// setByNote is "set by kubectl-patch at 2026-12-02T10:14:03Z", or "".
func setByNote(c FieldChange) string {
	if len(c.SetBy) == 0 {
		return ""
	}
	parts := make([]string, len(c.SetBy))
	for i, s := range c.SetBy {
		parts[i] = s.String()
	}
	return "set by " + strings.Join(parts, ", ")
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
	return slices.DeleteFunc(slices.Clone(r.Objects), func(o ObjectResult) bool { return o.Status == StatusInSync || o.Status == StatusUnchanged })
}

// title is a report's heading: the environment, and its baseline when it
// was compared with another render.
func title(r *Report) string {
	if r.Baseline == "" {
		return envName(r)
	}
	return envName(r) + " against " + r.Baseline
}

// reasonText words one reason for a roll; code formats names (mdCode in
// markdown). Secret values never reach it: a reason holds key names only.
func reasonText(r Reason, code func(string) string) string {
	in := ""
	if r.Container != "" {
		in = " of " + code(r.Container)
	}
	switch r.Kind {
	case ReasonConfig:
		kind, name, _ := strings.Cut(r.Object, " ")
		s := kind + " " + code(name)
		if len(r.Keys) > 0 {
			ks := make([]string, len(r.Keys))
			for i, k := range r.Keys {
				ks[i] = code(k)
			}
			s += " (" + strings.Join(ks, ", ") + ")"
		}
		return s
	case ReasonImage:
		if r.Old != "" && r.New != "" {
			return "image" + in + " " + code(r.Old) + " → " + code(r.New)
		}
		return "image" + in
	case ReasonEnv:
		if r.Name == "envFrom" {
			return "envFrom" + in
		}
		return "env " + code(r.Name) + in
	case ReasonResources:
		return "resources" + in
	case ReasonProbe:
		return r.Name + in
	}
	return code(r.Path)
}

// readText says what a change does to a workload that reads a fixed-name
// ConfigMap or Secret.
func readText(k ReadKind) string {
	switch k {
	case ReadEnv:
		return "env vars (read at start: restart the pods)"
	case ReadSubPath:
		return "subPath mount (never updated: restart the pods)"
	}
	return "volume (files update in place within about a minute; the application must reload them)"
}

func attentionText(a Attention, code func(string) string) string {
	kind, name, _ := strings.Cut(a.Object, " ")
	s := code(a.Workload.String()) + " reads " + kind + " " + code(name)
	if len(a.Keys) > 0 {
		ks := make([]string, len(a.Keys))
		for i, k := range a.Keys {
			ks[i] = code(k)
		}
		s += " (changed: " + strings.Join(ks, ", ") + ")"
	}
	reads := make([]string, len(a.Reads))
	for i, k := range a.Reads {
		reads[i] = readText(k)
	}
	return s + " by a fixed name, so nothing rolls it: " + strings.Join(reads, "; ")
}

func envName(r *Report) string {
	if r.Environment == "" {
		return "default"
	}
	return r.Environment
}
