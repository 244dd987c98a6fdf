package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"testing"
)

func TestJUnitWritesCountsPropertiesAndResults(t *testing.T) {
	doc := &JUnit{Name: "envctl validate", Tests: 3, Failures: 1, Errors: new(1), Skipped: new(0), Suites: []JUnitSuite{{
		Name: "prod", Tests: 3, Failures: 1, Errors: new(1), Skipped: new(0),
		Properties: []JUnitProperty{{Name: "strict", Value: "true"}},
		Cases: []JUnitCase{
			{Name: "v1 ConfigMap shop/app", ClassName: "prod", File: "base/app.yaml", Line: 6},
			{Name: "apps/v1 Deployment shop/api", ClassName: "prod", File: "base/api.yaml", Line: 1,
				Failure: &JUnitResult{Message: "2 problems", Type: "invalid", Text: "spec.replicas: < 2\nimage: \"latest\" & <untagged>"}},
			{Name: "x/v1 Probe shop/api", ClassName: "prod", Error: &JUnitResult{Message: "no schema", Type: "error"}},
		},
	}}}
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="envctl validate" tests="3" failures="1" errors="1" skipped="0">
  <testsuite name="prod" tests="3" failures="1" errors="1" skipped="0">
    <properties>
      <property name="strict" value="true"></property>
    </properties>
    <testcase name="v1 ConfigMap shop/app" classname="prod" file="base/app.yaml" line="6"></testcase>
    <testcase name="apps/v1 Deployment shop/api" classname="prod" file="base/api.yaml" line="1">
      <failure message="2 problems" type="invalid">spec.replicas: &lt; 2&#xA;image: &#34;latest&#34; &amp; &lt;untagged&gt;</failure>
    </testcase>
    <testcase name="x/v1 Probe shop/api" classname="prod">
      <error message="no schema" type="error"></error>
    </testcase>
  </testsuite>
</testsuites>
`
	var b bytes.Buffer
	if err := WriteJUnit(&b, doc, JUnitStyle{}); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestJUnitStyleChangesLayoutNotContent(t *testing.T) {
	doc := &JUnit{Name: "envctl diff", Tests: 2, Failures: 1, Suites: []JUnitSuite{{
		Name: "staging", Tests: 2, Failures: 1, Errors: new(0),
		Cases: []JUnitCase{
			{Name: "v1 Namespace shop", ClassName: "envctl.diff.staging"},
			{Name: "v1 ConfigMap shop/app", ClassName: "envctl.diff.staging",
				Failure: &JUnitResult{Type: "changed", Message: "changed (1 field)", Text: "  ~ data.x: \"<a>\" → \"]]>\"\n"}},
		},
	}}}
	style := JUnitStyle{ClassNameFirst: true, TypeFirst: true, CDATA: true}
	// No errors or skipped attribute where the counts are nil; classname
	// and type first; the body in CDATA, split where it holds "]]>".
	want := `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="envctl diff" tests="2" failures="1">
  <testsuite name="staging" tests="2" failures="1" errors="0">
    <testcase classname="envctl.diff.staging" name="v1 Namespace shop"></testcase>
    <testcase classname="envctl.diff.staging" name="v1 ConfigMap shop/app">
      <failure type="changed" message="changed (1 field)"><![CDATA[  ~ data.x: "<a>" → "]]]]><![CDATA[>"
]]></failure>
    </testcase>
  </testsuite>
</testsuites>
`
	var styled, plain bytes.Buffer
	if err := WriteJUnit(&styled, doc, style); err != nil {
		t.Fatal(err)
	}
	if styled.String() != want {
		t.Errorf("got\n%s\nwant\n%s", styled.String(), want)
	}
	if err := WriteJUnit(&plain, doc, JUnitStyle{}); err != nil {
		t.Fatal(err)
	}
	if a, b := readJUnit(t, styled.Bytes()), readJUnit(t, plain.Bytes()); a != b {
		t.Errorf("a JUnit reader sees\n%+v\nin one style and\n%+v\nin the other", a, b)
	}
}

// junitView is what a CI system reads of a report.
type junitView struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Suite    struct {
		Name   string `xml:"name,attr"`
		Errors int    `xml:"errors,attr"`
		Cases  []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Failure   *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, data []byte) string {
	t.Helper()
	var v junitView
	if err := xml.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v in\n%s", err, data)
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d tests, %d failures, %s", v.Tests, v.Failures, v.Suite.Name)
	for _, c := range v.Suite.Cases {
		b.WriteString("|" + c.Name + "|" + c.ClassName)
		if c.Failure != nil {
			b.WriteString("|" + c.Failure.Type + "|" + c.Failure.Message + "|" + c.Failure.Text)
		}
	}
	return b.String()
}
