package report

import (
	"encoding/xml"
	"io"
	"strconv"
)

// JUnit is a JUnit XML report, the format CI systems show as test results:
// one <testsuites> document.
type JUnit struct {
	Name     string
	Tests    int
	Failures int
	// Errors and Skipped are written when not nil: a report whose cases
	// cannot error or be skipped (envctl diff) leaves the attributes out
	// rather than claim a count of zero.
	Errors  *int
	Skipped *int
	Suites  []JUnitSuite
}

// JUnitSuite is one <testsuite>: an environment, or a file.
type JUnitSuite struct {
	Name     string
	Tests    int
	Failures int
	// Errors and Skipped are written when not nil, as in JUnit.
	Errors     *int
	Skipped    *int
	Properties []JUnitProperty
	Cases      []JUnitCase
}

// JUnitProperty is one <property> of a suite, such as the Kubernetes
// version a validation ran against.
type JUnitProperty struct {
	Name, Value string
}

// JUnitCase is one <testcase>: an object.
type JUnitCase struct {
	Name      string
	ClassName string
	// File and Line locate the case's source; written when set.
	File string
	Line int
	// Failure, Error and Skipped say why the case did not pass; a case
	// with none of them passed.
	Failure *JUnitResult
	Error   *JUnitResult
	Skipped *JUnitResult
}

// JUnitResult is the <failure>, <error> or <skipped> element of a case.
type JUnitResult struct {
	Message string
	// Type is written when set.
	Type string
	// Text is the element's body: details a CI system shows under the
	// message.
	Text string
}

// JUnitStyle is how WriteJUnit lays a report out. None of it changes what
// a JUnit reader sees; it exists so that a command's reports stay byte for
// byte what they were before the commands shared this writer (their golden
// files, and the diffs users keep of their CI artefacts, pin those bytes).
// The zero value is the layout new reports should use.
type JUnitStyle struct {
	// ClassNameFirst writes a testcase's classname attribute before its
	// name, as envctl diff does.
	ClassNameFirst bool
	// TypeFirst writes a result's type attribute before its message, as
	// envctl diff does.
	TypeFirst bool
	// CDATA writes result bodies as CDATA sections instead of escaped
	// text, so that multi-line bodies (envctl diff's changes) read as they
	// print in a terminal.
	CDATA bool
}

// WriteJUnit writes doc to w: the XML header, the document indented by two
// spaces, and a final newline.
func WriteJUnit(w io.Writer, doc *JUnit, style JUnitStyle) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(style.suites(doc)); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// element is one XML element as encoding/xml writes it. The JUnit types
// above are converted to elements rather than tagged for encoding/xml
// because a struct fixes its attributes' order, and JUnitStyle chooses it.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	CDATA    string     `xml:",cdata"`
	Text     string     `xml:",chardata"`
	Children []element
}

func (st JUnitStyle) suites(doc *JUnit) element {
	e := element{XMLName: xml.Name{Local: "testsuites"}, Attrs: []xml.Attr{
		attr("name", doc.Name), intAttr("tests", doc.Tests), intAttr("failures", doc.Failures),
	}}
	e.Attrs = appendCount(e.Attrs, "errors", doc.Errors)
	e.Attrs = appendCount(e.Attrs, "skipped", doc.Skipped)
	for _, s := range doc.Suites {
		e.Children = append(e.Children, st.suite(s))
	}
	return e
}

func (st JUnitStyle) suite(s JUnitSuite) element {
	e := element{XMLName: xml.Name{Local: "testsuite"}, Attrs: []xml.Attr{
		attr("name", s.Name), intAttr("tests", s.Tests), intAttr("failures", s.Failures),
	}}
	e.Attrs = appendCount(e.Attrs, "errors", s.Errors)
	e.Attrs = appendCount(e.Attrs, "skipped", s.Skipped)
	if len(s.Properties) > 0 {
		props := element{XMLName: xml.Name{Local: "properties"}}
		for _, p := range s.Properties {
			props.Children = append(props.Children, element{XMLName: xml.Name{Local: "property"}, Attrs: []xml.Attr{attr("name", p.Name), attr("value", p.Value)}})
		}
		e.Children = append(e.Children, props)
	}
	for _, c := range s.Cases {
		e.Children = append(e.Children, st.testcase(c))
	}
	return e
}

func (st JUnitStyle) testcase(c JUnitCase) element {
	e := element{XMLName: xml.Name{Local: "testcase"}}
	if st.ClassNameFirst {
		e.Attrs = []xml.Attr{attr("classname", c.ClassName), attr("name", c.Name)}
	} else {
		e.Attrs = []xml.Attr{attr("name", c.Name), attr("classname", c.ClassName)}
	}
	if c.File != "" {
		e.Attrs = append(e.Attrs, attr("file", c.File))
	}
	if c.Line != 0 {
		e.Attrs = append(e.Attrs, intAttr("line", c.Line))
	}
	for _, r := range []struct {
		name string
		res  *JUnitResult
	}{{"failure", c.Failure}, {"error", c.Error}, {"skipped", c.Skipped}} {
		if r.res != nil {
			e.Children = append(e.Children, st.result(r.name, r.res))
		}
	}
	return e
}

func (st JUnitStyle) result(name string, r *JUnitResult) element {
	e := element{XMLName: xml.Name{Local: name}}
	msg := attr("message", r.Message)
	switch {
	case r.Type == "":
		e.Attrs = []xml.Attr{msg}
	case st.TypeFirst:
		e.Attrs = []xml.Attr{attr("type", r.Type), msg}
	default:
		e.Attrs = []xml.Attr{msg, attr("type", r.Type)}
	}
	if st.CDATA {
		e.CDATA = r.Text
	} else {
		e.Text = r.Text
	}
	return e
}

func attr(name, value string) xml.Attr { return xml.Attr{Name: xml.Name{Local: name}, Value: value} }

func intAttr(name string, n int) xml.Attr { return attr(name, strconv.Itoa(n)) }

func appendCount(attrs []xml.Attr, name string, n *int) []xml.Attr {
	if n == nil {
		return attrs
	}
	return append(attrs, intAttr(name, *n))
}
