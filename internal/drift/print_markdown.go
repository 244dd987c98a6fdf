package drift

import (
	"fmt"
	"html"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/envctl/envctl/internal/report"
)

// markdownPrinter renders a pull-request comment: per environment a
// heading, the summary, a table of the objects that drift and, per object,
// a <details> block with its changes (unified diffs in ```diff fences).
//
// The output never exceeds WriteOptions.MaxChars characters (default
// MarkdownLimit, GitHub's limit for a comment): when the whole report does
// not fit, it is cut between blocks, in order, and ends with a note such
// as "… 12 more objects, 8,431 characters cut".
type markdownPrinter struct{ opts WriteOptions }

// chunk is an indivisible piece of the comment; obj identifies the object
// it belongs to (-1 for headings) and row whether it is the object's table
// row, for the truncation note.
type chunk struct {
	text string
	obj  int
	row  bool
}

func (p markdownPrinter) Print(w io.Writer, reports []*Report) error {
	limit := p.opts.MaxChars
	if limit <= 0 {
		limit = MarkdownLimit
	}
	var chunks []chunk
	obj := 0
	for i, r := range reports {
		objs := listed(r, p.opts.ShowInSync)
		var head strings.Builder
		if i > 0 {
			head.WriteString("\n")
		}
		baseline := r.Baseline != ""
		switch {
		case baseline:
			fmt.Fprintf(&head, "### %s\n\n", mdEscape(title(r)))
		default:
			fmt.Fprintf(&head, "### envctl diff: %s\n\n", mdEscape(envName(r)))
		}
		switch {
		case baseline && r.HasDrift():
			fmt.Fprintf(&head, "**Changes:** %s\n", summaryLine(r.Summary))
		case baseline:
			fmt.Fprintf(&head, "**No changes** (%s)\n", report.PluralGrouped(r.Summary.Objects, "object", "objects"))
		case r.HasDrift():
			fmt.Fprintf(&head, "**Drift:** %s\n", summaryLine(r.Summary))
		default:
			fmt.Fprintf(&head, "**In sync** (%s)\n", report.PluralGrouped(r.Summary.Objects, "object", "objects"))
		}
		chunks = append(chunks, chunk{head.String(), -1, false})
		if !r.Rollout.Empty() {
			// First: what a reviewer most needs, and kept when the rest
			// is cut.
			chunks = append(chunks, chunk{rolloutMarkdown(r.Rollout), -1, false})
		}
		if len(objs) == 0 {
			continue
		}
		chunks = append(chunks, chunk{"\n| Status | Object | Changes |\n| --- | --- | --- |\n", -1, false})
		for j, o := range objs {
			n := "—"
			switch {
			case len(o.Changes) > 0:
				n = report.GroupDigits(len(o.Changes))
			case o.SupersededBy != "":
				n = "old generation of " + cellEscape(mdCode(o.SupersededBy))
			}
			chunks = append(chunks, chunk{fmt.Sprintf("| %s | %s | %s |\n", o.Status, cellEscape(mdCode(objectTitle(o))), n), obj + j, true})
		}
		for j, o := range objs {
			if d := p.details(o, baseline); d != "" {
				chunks = append(chunks, chunk{d, obj + j, false})
			}
		}
		obj += len(objs)
	}

	total := 0
	for _, c := range chunks {
		total += utf8.RuneCountInString(c.text)
	}
	const reserve = 200 // room for the truncation note
	budget := limit
	if total > limit {
		budget = limit - reserve
	}
	var out strings.Builder
	used := 0
	cut := -1
	for i, c := range chunks {
		n := utf8.RuneCountInString(c.text)
		if used+n > budget {
			cut = i
			break
		}
		out.WriteString(c.text)
		used += n
	}
	if cut >= 0 {
		// Objects not in the table at all, else objects whose details
		// are cut.
		rows, details := map[int]bool{}, map[int]bool{}
		chars := 0
		for _, c := range chunks[cut:] {
			chars += utf8.RuneCountInString(c.text)
			switch {
			case c.row:
				rows[c.obj] = true
			case c.obj >= 0:
				details[c.obj] = true
			}
		}
		what := report.GroupDigits(len(rows)) + " more objects"
		if len(rows) == 0 {
			what = "details of " + report.GroupDigits(len(details)) + " more objects"
		}
		fmt.Fprintf(&out, "\n> [!NOTE]\n> … %s, %s characters cut to fit the %s-character limit of a comment. Run `envctl diff` for the whole report.\n",
			what, report.GroupDigits(chars), report.GroupDigits(limit))
	}
	_, err := io.WriteString(w, out.String())
	return err
}

// WriteRolloutMarkdown prints a rollout impact as the markdown report
// does (for plans, which print their own steps).
func WriteRolloutMarkdown(w io.Writer, r *Rollout) error {
	if r.Empty() {
		return nil
	}
	_, err := io.WriteString(w, rolloutMarkdown(r))
	return err
}

// rolloutMarkdown is the rollout impact as a list: the workloads that
// roll and why, then the ones that need attention.
func rolloutMarkdown(r *Rollout) string {
	var b strings.Builder
	b.WriteString("\n**Rollout impact**\n\n")
	for _, rs := range r.Restarts {
		why := make([]string, len(rs.Reasons))
		for i, x := range rs.Reasons {
			why[i] = reasonText(x, mdCode)
		}
		fmt.Fprintf(&b, "- %s rolls: %s\n", mdCode(rs.Workload.String()), strings.Join(why, ", "))
	}
	for _, a := range r.Attention {
		fmt.Fprintf(&b, "- :warning: %s\n", attentionText(a, mdCode))
	}
	return b.String()
}

func (p markdownPrinter) details(o ObjectResult, baseline bool) string {
	if len(o.Changes) == 0 && o.Renamed == nil && len(o.Rolls) == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n<details><summary><code>%s</code>: %s</summary>\n\n", html.EscapeString(objectTitle(o)), html.EscapeString(statusPhrase(o)))
	if o.Renamed != nil {
		fmt.Fprintf(&b, "Renamed %s → %s.\n", mdCode(o.Renamed.From), mdCode(o.Renamed.To))
	}
	if len(o.Rolls) > 0 {
		names := make([]string, len(o.Rolls))
		for i, r := range o.Rolls {
			names[i] = mdCode(r.String())
		}
		fmt.Fprintf(&b, "Rolls %s.\n", strings.Join(names, ", "))
	}
	if o.Renamed != nil || len(o.Rolls) > 0 {
		b.WriteString("\n")
	}
	for _, c := range o.Changes {
		fmt.Fprintf(&b, "- %s %s", mdCode(c.Path), changeVerb(c, baseline))
		switch {
		case c.TextDiff != "":
			fence := codeFence(c.TextDiff)
			b.WriteString(":\n\n  " + fence + "diff\n")
			for _, line := range strings.Split(strings.TrimSuffix(c.TextDiff, "\n"), "\n") {
				b.WriteString("  " + line + "\n")
			}
			b.WriteString("  " + fence + "\n")
		case c.Kind == FieldChanged && (c.Old.Masked() || c.New.Masked()):
			b.WriteString(" (secret value)\n")
		case c.Kind == FieldChanged:
			fmt.Fprintf(&b, ": %s → %s\n", mdCode(c.Old.String()), mdCode(c.New.String()))
		case c.Kind == FieldAdded:
			fmt.Fprintf(&b, ": %s\n", mdCode(c.New.String()))
		default:
			fmt.Fprintf(&b, ": %s\n", mdCode(c.Old.String()))
		}
	}
	b.WriteString("\n</details>\n")
	return b.String()
}

func changeVerb(c FieldChange, baseline bool) string {
	var s string
	switch {
	case baseline && c.Kind == FieldAdded:
		s = "added"
	case baseline && c.Kind == FieldRemoved:
		s = "removed"
	case c.Kind == FieldAdded:
		s = "missing from the cluster"
	case c.Kind == FieldRemoved:
		s = "no longer in the repository"
	case c.Kind == FieldExtra:
		s = "only in the cluster (not removed by apply"
		if by := setByNote(c); by != "" {
			s += "; " + by
		} else if len(c.Managers) > 0 {
			s += "; set by " + strings.Join(c.Managers, ", ")
		}
		s += ")"
	default:
		s = "changed"
	}
	if by := setByNote(c); by != "" && c.Kind != FieldExtra {
		s += " (" + by + ")"
	}
	if c.FollowsRename != nil {
		s += " (rolls: " + c.FollowsRename.Kind + " " + baseName(c.FollowsRename.Name) + " renamed)"
	}
	return s
}

// mdCode renders s as an inline code span.
func mdCode(s string) string { return report.MarkdownCode(s) }

// codeFence returns a fence longer than any backtick run at a line start.
func codeFence(s string) string {
	n := 3
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimLeft(line, " +-")
		k := len(t) - len(strings.TrimLeft(t, "`"))
		if k >= n {
			n = k + 1
		}
	}
	return strings.Repeat("`", n)
}

func cellEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "`", "\\`", "<", "&lt;", "[", `\[`, "]", `\]`, "#", `\#`)

func mdEscape(s string) string { return mdEscaper.Replace(s) }
