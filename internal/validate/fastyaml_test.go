package validate

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"
)

// slowValue decodes a document as go-yaml v2 and sigs.k8s.io/yaml do.
func slowValue(data []byte) (any, error) {
	var raw any
	if err := yaml2.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	return toJSON(raw)
}

// fastCases are documents at the edges of fastDecode's subset: it must
// either decline them or decode them exactly as go-yaml does.
var fastCases = []string{
	"a: 1\nb: 1.5\nc: -2\nd: 0x1F\ne: 0o17\nf: 0644\ng: 1_000\nh: 1e3\ni: .5\nj: +1\nk: 0b101\nl: -0b11\n",
	"a: yes\nb: No\nc: on\nd: OFF\ne: y\nf: n\ng: true\nh: False\ni: ~\nj: null\nk:\nl: NULL\n",
	"a: .inf\n", "a: -.Inf\n", "a: .nan\n", "a: 18446744073709551615\n", "a: 9223372036854775808\n", "a: -9223372036854775809\n",
	"a: 2024-01-02\nb: 2024-01-02T15:04:05Z\nc: 2001-12-14 21:59:43.10 -5\nd: 12:30:45\ne: 1:2\n",
	"a: 'it''s'\nb: \"x\\ty\\u00e9\\\"z\\\\\"\nc: ''\nd: \"\"\ne: 'a # b'\nf: \"a # b\" # c\n",
	"a: x # comment\nb: x#y\nc: http://a:8080/b\nd: -c\ne: --config=x\nf: :x\ng: ?x\nh: a:b\n",
	"a: b: c\n", "a: - b\n", "a: [1, 2]\n", "a: {b: 1}\n", "a: []\nb: {}\nc: [] # x\n",
	"a: &x 1\nb: *x\n", "a: !!str 1\n", "<<: {a: 1}\n", "? a\n: b\n", "a: >\n  folded\n  text\n",
	"a: |\n  line1\n  line2\n\n\nb: 1\n", "a: |-\n  x\n\n", "a: |+\n  x\n\n\nb: 2\n", "a: |\n  x\n", "a: |2\n    x\n",
	"a: |\n\n  x\n", "a: |\n  x\n   \n  y\n", "a: |\n  # not a comment\n  x\n# a comment\nb: 1\n", "a: |\nb: 1\n",
	"a:\n  b:\n    c: 1\n  d:\n  - 1\n  - x: 2\n    y: 3\n  -\n    z: 4\n  - - 5\n",
	"a:\n- 1\n- 2\nb: 3\n", "a:\n  - 1\n  -   b: 2\n      c: 3\n", "- a\n- b\n", "just a scalar\n", "a: 1\n  b: 2\n",
	"a: multi\n  line\n", "a: 'multi\n  line'\n", "a: \"multi\n  line\"\n", "a: 1\na: 2\n", "\"q\": 1\n'r': 2\n\"s\":3\n",
	"1: a\n1.5: b\ntrue: c\n0x10: d\n~: e\n", "a:\tb\n", "a: b\t# c\n", "\ta: 1\n", "a: 1\r\nb: 2\r\n", "a: \"\\N\"\n",
	"a:\n    - 1\n    - 2\n", "a:\n  -\n  - 1\n", "a: -\n", "a: - \n", "a: '#'\n", "a: \"x\" y\n", "key with spaces: v\n",
	"a: b \n", "a:  b\n", "a:    \n", "- a: 1\n  b:\n  - c\n- d\n", "a: |\n    x\n  y\n", "list:\n- |\n  x\n  y\n- z\n",
}

func TestFastDecodeAgreesWithGoYAML(t *testing.T) {
	docs := fastCases
	var files []string
	for _, pattern := range []string{"../../cmd/envctl/testdata/golden/*.yaml", "testdata/corpus/*/*.yaml", "testdata/corpus/*.yaml", "../../crds/*.yaml", "../k8sschema/testdata/*.yaml",
		"../../base/*.yaml", "../../components/*/*.yaml", "../../environments/*/*.yaml", "../../environments/*/patches/*.yaml", "../overlay/testdata/conformance/*/*.yaml", "../overlay/testdata/conformance/*/*/*.yaml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	fast, total := 0, 0
	goldenFast, goldenTotal := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range splitDocuments(data) {
			docs = append(docs, string(d.Data))
			if strings.Contains(f, "golden") {
				goldenTotal++
				if _, ok := fastDecode(d.Data); ok {
					goldenFast++
				}
			}
		}
	}
	for _, doc := range docs {
		total++
		got, ok := fastDecode([]byte(doc))
		if !ok {
			if _, ok := fastLines([]byte(doc)); ok {
				t.Errorf("fastLines accepts a document fastDecode does not:\n%s", doc)
			}
			continue
		}
		fast++
		checkFastLines(t, doc)
		want, err := slowValue([]byte(doc))
		if err != nil {
			t.Errorf("fastDecode accepts a document go-yaml rejects (%v):\n%s", err, doc)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("fastDecode differs from go-yaml:\n%s\nfast: %#v\ngo-yaml: %#v", doc, got, want)
		}
	}
	t.Logf("fast path on %d of %d documents", fast, total)
	if goldenTotal == 0 || goldenFast != goldenTotal {
		t.Errorf("the fast path handles %d of the %d rendered example documents; it is for exactly those", goldenFast, goldenTotal)
	}
}

func FuzzFastDecode(f *testing.F) {
	for _, c := range fastCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		got, ok := fastDecode([]byte(doc))
		if !ok {
			return
		}
		want, err := slowValue([]byte(doc))
		if err != nil {
			t.Fatalf("fastDecode accepts a document go-yaml rejects (%v):\n%q", err, doc)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("fastDecode differs from go-yaml on %q:\nfast: %#v\ngo-yaml: %#v", doc, got, want)
		}
		checkFastLines(t, doc)
	})
}

// checkFastLines holds fastLines to lineOf on go-yaml's tree: for every
// node of the document, and for a field missing under each.
func checkFastLines(t *testing.T, doc string) {
	t.Helper()
	lines, ok := fastLines([]byte(doc))
	if !ok {
		t.Errorf("fastLines refuses a document fastDecode takes:\n%s", doc)
		return
	}
	var root yaml3.Node
	if err := yaml3.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatal(err)
	}
	// go-yaml's tree keeps keys as written; YAML 1.1 resolves a plain
	// "Y" key to "true" and "01" to "1", which lineOf cannot find
	// (fastLines can). Only paths go-yaml's tree has are compared.
	asWritten := func(p string) bool {
		_, whole := nodeLine(&root, p)
		return whole
	}
	for p := range lines {
		if !asWritten(p) {
			continue
		}
		for _, q := range []string{p, p + "/missing~1field"} {
			if got, want := lineAt(lines, q), lineOf(&root, q); got != want {
				t.Errorf("line of %q: fastLines %d, go-yaml %d, in:\n%s", q, got, want, doc)
			}
		}
	}
}
