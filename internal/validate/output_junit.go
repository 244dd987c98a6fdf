package validate

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Properties []junitProperty `xml:"properties>property,omitempty"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// writeJUnit prints one test suite per environment (or file) and one test
// case per object: a failure lists its problems, an error says why the
// object could not be checked.
func writeJUnit(w io.Writer, rep *Report) error {
	all := rep.Count(nil)
	out := junitSuites{Name: "envctl validate", Tests: all.Total(), Failures: all.Invalid, Errors: all.Errors, Skipped: all.Skipped}
	for _, g := range groups(rep) {
		c := g.counts()
		name := g.name
		if name == "" {
			name = "(no file)"
		}
		s := junitSuite{Name: name, Tests: c.Total(), Failures: c.Invalid, Errors: c.Errors, Skipped: c.Skipped,
			Properties: []junitProperty{{"kubernetesVersion", rep.KubernetesVersion}, {"strict", fmt.Sprint(rep.Strict)}}}
		for _, r := range g.results {
			tc := junitCase{Name: r.Object.String(), Classname: name, File: r.Source.File, Line: r.Source.Line}
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
				tc.Failure = &junitMessage{Message: plural(len(r.Problems), "problem", "problems"), Type: "invalid", Text: strings.Join(lines, "\n")}
			case Error:
				tc.Error = &junitMessage{Message: r.Reason, Type: "error"}
			case Skipped:
				tc.Skipped = &junitMessage{Message: r.Reason}
			}
			s.Cases = append(s.Cases, tc)
		}
		out.Suites = append(out.Suites, s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
