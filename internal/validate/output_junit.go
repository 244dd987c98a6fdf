package validate

import (
	"fmt"
	"io"
	"strings"

	"github.com/envctl/envctl/internal/report"
)

// writeJUnit prints one test suite per environment (or file) and one test
// case per object: a failure lists its problems, an error says why the
// object could not be checked.
func writeJUnit(w io.Writer, rep *Report) error {
	all := rep.Count(nil)
	out := report.JUnit{Name: "envctl validate", Tests: all.Total(), Failures: all.Invalid, Errors: new(all.Errors), Skipped: new(all.Skipped)}
	for _, g := range groups(rep) {
		c := g.counts()
		name := g.name
		if name == "" {
			name = "(no file)"
		}
		s := report.JUnitSuite{Name: name, Tests: c.Total(), Failures: c.Invalid, Errors: new(c.Errors), Skipped: new(c.Skipped),
			Properties: []report.JUnitProperty{{Name: "kubernetesVersion", Value: rep.VersionOf(g.name)}, {Name: "strict", Value: fmt.Sprint(rep.Strict)}}}
		for _, r := range g.results {
			tc := report.JUnitCase{Name: r.Object.String(), ClassName: name, File: r.Source.File, Line: r.Source.Line}
			switch r.Status {
			case Invalid:
				var lines []string
				for _, p := range r.Problems {
					l := problemText(p)
					if p.Line > 0 && r.Source.File != "" {
						l = fmt.Sprintf("%s:%d: %s", r.Source.File, p.Line, l)
					}
					lines = append(lines, l)
				}
				tc.Failure = &report.JUnitResult{Message: report.Plural(len(r.Problems), "problem", "problems"), Type: "invalid", Text: strings.Join(lines, "\n")}
			case Error:
				tc.Error = &report.JUnitResult{Message: r.Reason, Type: "error"}
			case Skipped:
				tc.Skipped = &report.JUnitResult{Message: r.Reason}
			}
			s.Cases = append(s.Cases, tc)
		}
		out.Suites = append(out.Suites, s)
	}
	return report.WriteJUnit(w, &out, report.JUnitStyle{})
}
