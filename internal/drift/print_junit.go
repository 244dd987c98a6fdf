package drift

import (
	"bufio"
	"bytes"
	"io"

	"github.com/envctl/envctl/internal/report"
)

// junitPrinter writes JUnit XML for CI systems: one <testsuite> per
// environment, one <testcase> per object (classname "envctl.diff.<env>",
// name the object's title), and a <failure> (type = status, message = the
// status phrase, body = the object's changes as the text printer shows
// them) for each object that drifts. No timestamps or durations.
type junitPrinter struct{}

// junitStyle keeps diff's JUnit reports as they have always been laid out:
// classname and type first, and changes in CDATA so that their diffs read
// as in a terminal.
var junitStyle = report.JUnitStyle{ClassNameFirst: true, TypeFirst: true, CDATA: true}

func (junitPrinter) Print(w io.Writer, reports []*Report) error {
	doc := report.JUnit{Name: "envctl diff"}
	for _, r := range reports {
		// A drift check cannot error or be skipped per object, but diff's
		// suites have always said errors="0".
		s := report.JUnitSuite{Name: envName(r), Tests: len(r.Objects), Errors: new(0)}
		for _, o := range r.Objects {
			c := report.JUnitCase{ClassName: "envctl.diff." + envName(r), Name: objectTitle(o)}
			if o.Status != StatusInSync && o.Status != StatusUnchanged {
				var body bytes.Buffer
				bw := bufio.NewWriter(&body)
				textPrinter{}.object(bw, o, r.Baseline != "")
				bw.Flush()
				c.Failure = &report.JUnitResult{Type: string(o.Status), Message: statusPhrase(o), Text: body.String()}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
	}
	return report.WriteJUnit(w, &doc, junitStyle)
}
