package drift

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"io"
)

// junitPrinter writes JUnit XML for CI systems: one <testsuite> per
// environment, one <testcase> per object (classname "envctl.diff.<env>",
// name the object's title), and a <failure> (type = status, message = the
// status phrase, body = the object's changes as the text printer shows
// them) for each object that drifts. No timestamps or durations.
type junitPrinter struct{}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	ClassName string        `xml:"classname,attr"`
	Name      string        `xml:"name,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Body    string `xml:",cdata"`
}

func (junitPrinter) Print(w io.Writer, reports []*Report) error {
	doc := junitSuites{Name: "envctl diff"}
	for _, r := range reports {
		s := junitSuite{Name: envName(r), Tests: len(r.Objects)}
		for _, o := range r.Objects {
			c := junitCase{ClassName: "envctl.diff." + envName(r), Name: objectTitle(o)}
			if o.Status != StatusInSync {
				var body bytes.Buffer
				bw := bufio.NewWriter(&body)
				textPrinter{}.object(bw, o)
				bw.Flush()
				c.Failure = &junitFailure{Type: string(o.Status), Message: statusPhrase(o), Body: body.String()}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
