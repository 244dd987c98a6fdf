package deploy

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/report"
)

// maxValue bounds a value shown in a plan; longer ones are cut.
const maxValue = 80

// WritePlan prints what an apply will do: one line per object that
// changes, its changed fields (Secret values masked, as diff shows them),
// the workloads a new ConfigMap generation rolls, and the totals.
func WritePlan(w io.Writer, p *Plan) error {
	fmt.Fprintf(w, "%s: release %d in namespace %s\n", p.Environment, p.Revision, p.Namespace)
	for _, s := range p.Steps {
		var mark string
		switch s.Action {
		case ActionCreate:
			mark = "+"
		case ActionChange:
			mark = "~"
		case ActionPrune:
			mark = "-"
		case ActionRetain, ActionKeep:
			mark = "="
		default:
			continue
		}
		line := fmt.Sprintf("  %s %s", mark, s.ID)
		if b, ok := drift.HashedBase(s.ID.Name); ok && s.Action == ActionCreate && s.ID.Group == "" {
			line += fmt.Sprintf(" (new generation of %s)", b)
		}
		if s.Why != "" && s.Action != ActionChange {
			line += " (" + string(s.Action) + ": " + s.Why + ")"
		} else if s.Action == ActionChange && len(s.Changes) == 0 {
			line += " (" + s.Why + ")"
		}
		fmt.Fprintln(w, line)
		for _, c := range s.Changes {
			fmt.Fprintf(w, "      %s: %s\n", c.Path, change(c))
		}
		if len(s.Rolls) > 0 {
			var names []string
			for _, r := range s.Rolls {
				names = append(names, r.Kind+" "+r.Name)
			}
			fmt.Fprintf(w, "      rolls %s\n", strings.Join(names, ", "))
		}
	}
	if err := drift.WriteRollout(w, p.Rollout); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s: %s\n", p.Environment, Totals(p))
	return err
}

// WritePlanMarkdown prints a plan for a pull request or a CI job
// summary: the totals, the rollout impact, then every step with its
// changed fields, folded. Secret values are masked in the steps as in
// the text plan.
func WritePlanMarkdown(w io.Writer, p *Plan, id string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### envctl plan: %s\n\n%s (release %d in namespace %s", p.Environment, Totals(p), p.Revision, report.MarkdownCode(p.Namespace))
	if id != "" {
		fmt.Fprintf(&b, ", plan %s", report.MarkdownCode(id))
	}
	b.WriteString(")\n")
	if err := drift.WriteRolloutMarkdown(&b, p.Rollout); err != nil {
		return err
	}
	verbs := map[Action]string{ActionCreate: "create", ActionChange: "change", ActionPrune: "prune"}
	for _, s := range p.Steps {
		verb, ok := verbs[s.Action]
		if !ok {
			continue
		}
		why := ""
		if s.Why != "" && s.Action != ActionChange {
			why = ": " + s.Why
		}
		if len(s.Changes) == 0 {
			fmt.Fprintf(&b, "\n- %s %s%s\n", verb, report.MarkdownCode(s.ID.String()), why)
			continue
		}
		fmt.Fprintf(&b, "\n<details><summary>%s <code>%s</code></summary>\n\n", verb, html.EscapeString(s.ID.String()))
		for _, c := range s.Changes {
			fmt.Fprintf(&b, "- %s: %s\n", report.MarkdownCode(c.Path), report.MarkdownCode(change(c)))
		}
		b.WriteString("\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WritePlanFile prints a plan file for the reviewer who signs it: where it
// applies, what it was made from, and every step.
func WritePlanFile(w io.Writer, pf *PlanFile) error {
	commit := orDash(pf.Commit)
	if pf.Dirty {
		commit += "+dirty"
	}
	fmt.Fprintf(w, "plan %s for %s (namespace %s) on %s (kube-system %s)\n", pf.ID, pf.Environment, pf.Namespace, pf.Cluster.Server, pf.Cluster.KubeSystemUID)
	fmt.Fprintf(w, "  made %s by %s from commit %s, against release %d\n", pf.Created.Format(time.RFC3339), orDash(pf.Planner), commit, pf.Previous)
	counts := map[Action]int{}
	for _, s := range pf.Steps {
		counts[s.Action]++
		mark := map[Action]string{ActionCreate: "+", ActionChange: "~", ActionPrune: "-"}[s.Action]
		fmt.Fprintf(w, "  %s %s\n", mark, s.ID)
		for _, c := range s.Changes {
			fmt.Fprintf(w, "      %s: %s\n", c.Path, change(c))
		}
	}
	if err := drift.WriteRollout(w, pf.Rollout); err != nil {
		return err
	}
	for _, s := range pf.Signatures {
		fmt.Fprintf(w, "  signed by %s (%s)\n", orDash(s.Signer), s.Key)
	}
	_, err := fmt.Fprintf(w, "%s: %d to create, %d to change, %d to prune\n", pf.Environment, counts[ActionCreate], counts[ActionChange], counts[ActionPrune])
	return err
}

// Totals is a plan's one-line summary.
func Totals(p *Plan) string {
	parts := []string{
		fmt.Sprintf("%d to create", p.Count(ActionCreate)),
		fmt.Sprintf("%d to change", p.Count(ActionChange)),
		fmt.Sprintf("%d to prune", p.Count(ActionPrune)),
		fmt.Sprintf("%d unchanged", p.Count(ActionUnchanged)),
	}
	if n := p.Count(ActionRetain); n > 0 {
		parts = append(parts, fmt.Sprintf("%d old generation%s kept", n, plural(n)))
	}
	return strings.Join(parts, ", ")
}

func change(c drift.FieldChange) string {
	switch c.Kind {
	case drift.FieldAdded:
		return "added " + short(c.New)
	case drift.FieldRemoved:
		return "removed (was " + short(c.Old) + ")"
	case drift.FieldExtra:
		return "live only " + short(c.Old) + " (kept: another manager's)"
	}
	return short(c.Old) + " → " + short(c.New)
}

func short(v drift.Value) string {
	s := v.String()
	if len(s) > maxValue {
		s = s[:maxValue-1] + "…"
	}
	return s
}

// HistoryEntry is one release as `envctl history` shows it.
type HistoryEntry struct {
	Revision    int       `json:"revision"`
	Status      Status    `json:"status"`
	Started     time.Time `json:"started,omitzero"`
	User        string    `json:"user,omitempty"`
	Commit      string    `json:"commit,omitempty"`
	Dirty       bool      `json:"dirty,omitempty"`
	Version     string    `json:"version,omitempty"`
	Description string    `json:"description,omitempty"`
	PlanID      string    `json:"planID,omitempty"`
	Planner     string    `json:"planner,omitempty"`
	Signers     []string  `json:"signers,omitempty"`
	Objects     int       `json:"objects"`
	Created     int       `json:"created"`
	Changed     int       `json:"changed"`
	Pruned      int       `json:"pruned"`
	Error       string    `json:"error,omitempty"`
}

// Entries turns releases into history entries.
func Entries(rels []*Release) []HistoryEntry {
	out := make([]HistoryEntry, 0, len(rels))
	for _, r := range rels {
		e := HistoryEntry{Revision: r.Revision, Status: r.Status, Started: r.Started, User: r.User, Commit: r.Commit, Dirty: r.Dirty,
			Version: r.Version, Description: r.Description, PlanID: r.PlanID, Planner: r.Planner, Signers: r.Signers, Created: r.Created, Changed: r.Changed, Pruned: r.Pruned, Error: r.Error}
		for _, it := range r.Inventory {
			if !it.Retained {
				e.Objects++
			}
		}
		if r.Status == StatusUnreadable {
			e.Error = r.ReadError
		}
		out = append(out, e)
	}
	return out
}

var historyPrinters = report.Formats[[]HistoryEntry, struct{}]{
	{Name: "text", New: func(struct{}) report.Printer[[]HistoryEntry] { return historyText{} }},
	{Name: "json", New: func(struct{}) report.Printer[[]HistoryEntry] { return historyJSON{} }},
}

// HistoryFormats are `envctl history`'s output formats.
func HistoryFormats() []string { return historyPrinters.Names() }

// NewHistoryPrinter returns the history printer called name.
func NewHistoryPrinter(name string) (report.Printer[[]HistoryEntry], error) {
	return historyPrinters.New(name, struct{}{})
}

type historyText struct{}

func (historyText) Print(w io.Writer, es []HistoryEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 3, ' ', 0)
	row := func(cells ...string) { fmt.Fprintln(tw, strings.Join(cells, "\t")) }
	row("REVISION", "STARTED", "STATUS", "USER", "COMMIT", "OBJECTS", "CHANGES", "DESCRIPTION")
	for _, e := range es {
		started, commit, changes := "-", e.Commit, "-"
		if !e.Started.IsZero() {
			started = e.Started.UTC().Format(time.RFC3339)
		}
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if e.Dirty {
			commit += "+dirty"
		}
		if commit == "" {
			commit = "-"
		}
		desc := e.Description
		if e.Status != StatusUnreadable {
			changes = fmt.Sprintf("+%d ~%d -%d", e.Created, e.Changed, e.Pruned)
		}
		if e.PlanID != "" {
			desc += " (plan " + e.PlanID
			if e.Planner != "" && e.Planner != e.User {
				desc += " by " + e.Planner
			}
			if len(e.Signers) > 0 {
				desc += ", signed by " + strings.Join(e.Signers, ", ")
			}
			desc += ")"
		}
		if e.Error != "" {
			desc += ": " + e.Error
		}
		row(fmt.Sprint(e.Revision), started, string(e.Status), orDash(e.User), commit, fmt.Sprint(e.Objects), changes, desc)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

type historyJSON struct{}

func (historyJSON) Print(w io.Writer, es []HistoryEntry) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(es)
}
