package validate

import (
	"fmt"
	"io"
	"strings"

	"github.com/envctl/envctl/internal/report"
)

// markdownLimit keeps the findings well under a GitHub comment's 65,536
// characters: the workflow posts them with the change preview.
const markdownLimit = 16000

// writeMarkdown prints the findings for a pull-request comment: a table
// of every environment (or file), then each invalid object with its
// problems, folded; nothing for valid objects. Values are never quoted
// beyond what the text output shows (a Secret's never).
func writeMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	total := rep.Count(nil)
	verdict := "all valid"
	if total.Invalid+total.Errors > 0 {
		verdict = fmt.Sprintf("%s, %s", report.Plural(total.Invalid, "invalid object", "invalid objects"), report.Plural(total.Errors, "error", "errors"))
	}
	fmt.Fprintf(&b, "### envctl validate: %s\n\n", verdict)
	b.WriteString("| | valid | invalid | errors | skipped |\n|---|---:|---:|---:|---:|\n")
	gs := groups(rep)
	for _, g := range gs {
		c := g.counts()
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", report.MarkdownCode(displayName(g.name)), c.Valid, c.Invalid, c.Errors, c.Skipped)
	}
	var details strings.Builder
	cut := 0
	for _, g := range gs {
		for _, r := range g.results {
			if r.Status != Invalid && r.Status != Error {
				continue
			}
			var o strings.Builder
			fmt.Fprintf(&o, "\n<details><summary>%s %s</summary>\n\n", report.MarkdownCode(r.Object.String()), markdownWhere(g, r))
			if r.Status == Error {
				fmt.Fprintf(&o, "- error: %s\n", report.MarkdownCode(r.Reason))
			}
			for _, p := range r.Problems {
				fmt.Fprintf(&o, "- %s\n", report.MarkdownCode(problemText(p)))
			}
			o.WriteString("\n</details>\n")
			if b.Len()+details.Len()+o.Len() > markdownLimit {
				cut++
				continue
			}
			details.WriteString(o.String())
		}
	}
	b.WriteString(details.String())
	if cut > 0 {
		fmt.Fprintf(&b, "\n> [!NOTE]\n> … %s cut to fit a comment. Run `envctl validate` for the whole report.\n", report.Plural(cut, "more invalid object", "more invalid objects"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func displayName(name string) string {
	switch name {
	case "":
		return "(no file)"
	case "-":
		return "stdin"
	}
	return name
}

// markdownWhere is "in staging (base/api.yaml:12)".
func markdownWhere(g group, r *Result) string {
	s := "in " + report.MarkdownCode(displayName(g.name))
	if src := r.Source.String(); src != "" && (g.env || r.Source.File != g.name) {
		s += " (" + report.MarkdownCode(src) + ")"
	}
	return s
}
