package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// storefront compares the example's staging render (testdata/storefront/
// desired.yaml, from `envctl build staging`) with a snapshot of a real API
// server (live.yaml; see testdata/storefront/README.md for how it was made
// and what drifted), and a small in-sync "dev" environment.
func storefrontReports(t testing.TB) []*Report {
	t.Helper()
	d, err := os.ReadFile("testdata/storefront/desired.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l, err := os.ReadFile("testdata/storefront/live.yaml")
	if err != nil {
		t.Fatal(err)
	}
	staging := mustCompare(t, string(d), string(l), Options{
		Environment:      "staging",
		DefaultNamespace: "storefront-staging",
		Selector:         map[string]string{"envctl.dev/environment": "staging"},
	})
	dev := mustCompare(t, desiredDeployment, liveDeployment, Options{Environment: "dev"})
	return []*Report{staging, dev}
}

func TestPrintersMatchGoldenFiles(t *testing.T) {
	reports := storefrontReports(t)
	cases := []struct {
		file   string
		format string
		opts   WriteOptions
	}{
		{"text.golden", "text", WriteOptions{}},
		{"text-color.golden", "text", WriteOptions{Color: true}},
		{"text-all.golden", "text", WriteOptions{ShowInSync: true}},
		{"json.golden", "json", WriteOptions{}},
		{"markdown.golden", "markdown", WriteOptions{}},
		{"markdown-truncated.golden", "markdown", WriteOptions{MaxChars: 4000}},
		{"junit.golden", "junit", WriteOptions{}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, c.format, reports, c.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", c.file), b.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/drift -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./internal/drift -update and review the diff):\n%s", path, unifiedDiff(string(want), string(got)))
	}
}

func TestStorefrontFindings(t *testing.T) {
	r := storefrontReports(t)[0]
	got := outline(r, false)
	// Every kind of drift the snapshot was made with, and nothing else.
	want := []string{
		"changed ConfigMap storefront-staging/app-config-229mhm8f2g renamed app-config-6t7b2k9d4c→app-config-229mhm8f2g rolls CronJob/db-backup rolls Deployment/api rolls Deployment/worker",
		"orphaned ConfigMap storefront-staging/app-config-8d2f5k7m9b superseded by app-config-229mhm8f2g",
		"changed CronJob storefront-staging/db-backup",
		"changed Deployment storefront-staging/api",
		"changed Deployment storefront-staging/worker",
		"changed Ingress storefront-staging/storefront",
		"changed Secret storefront-staging/api-keys-h4t9gg5tmm",
		"orphaned Service storefront-staging/api-canary",
		"missing Service storefront-staging/redis",
	}
	var heads []string
	for _, l := range got {
		if !strings.HasPrefix(l, "~") && !strings.HasPrefix(l, "+") && !strings.HasPrefix(l, "-") && !strings.HasPrefix(l, "!") {
			heads = append(heads, l)
		}
	}
	checkOutline(t, heads, want)
	for _, l := range []string{
		`- metadata.labels["app.kubernetes.io/version"]: "1.8.2"`,
		`~ spec.replicas: 3 → 2`,
		`! spec.template.spec.containers[name=api].env[name=DEBUG_SQL]: {"name":"DEBUG_SQL","value":"true"} [kubectl-set]`,
		`~ data.SEARCH_API_KEY: (secret) → (secret)`,
	} {
		if !strings.Contains(strings.Join(got, "\n"), l) {
			t.Errorf("no %q in\n%s", l, strings.Join(got, "\n"))
		}
	}
	if r.Summary != (Summary{Objects: 23, InSync: 14, Changed: 6, Missing: 1, Orphaned: 2, Renamed: 1, Rolling: 3}) {
		t.Errorf("summary %+v", r.Summary)
	}
}

// The storefront's Secrets hold (fake) values: no output may show them.
func TestPrintersNeverShowTheStorefrontSecrets(t *testing.T) {
	var values []string
	for _, f := range []string{"testdata/storefront/desired.yaml", "testdata/storefront/live.yaml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range parseObjects(t, string(b)) {
			if o.GetKind() != "Secret" {
				continue
			}
			tree := fromYAML(o.YNode()).(map[string]any)
			for _, v := range mapAt(tree, "data") {
				enc := strings.Join(strings.Fields(str(v)), "")
				dec, _ := base64.StdEncoding.DecodeString(enc)
				values = append(values, enc, string(dec))
			}
		}
	}
	values = append(values, "CHANGEME-rotated-by-hand")
	if len(values) < 10 {
		t.Fatalf("found only %d secret values", len(values))
	}
	reports := storefrontReports(t)
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, format, reports, WriteOptions{ShowInSync: true}); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if len(v) >= 8 && strings.Contains(b.String(), v) {
				t.Errorf("%s output shows a secret value %q", format, v)
			}
		}
	}
}

func TestPrintersAreDeterministic(t *testing.T) {
	d, _ := os.ReadFile("testdata/storefront/desired.yaml")
	l, _ := os.ReadFile("testdata/storefront/live.yaml")
	opts := Options{Environment: "staging", DefaultNamespace: "storefront-staging", Selector: map[string]string{"envctl.dev/environment": "staging"}}
	var first map[string]string
	for i := range 5 {
		desired, live := parseObjects(t, string(d)), parseObjects(t, string(l))
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		rng.Shuffle(len(desired), func(a, b int) { desired[a], desired[b] = desired[b], desired[a] })
		rng.Shuffle(len(live), func(a, b int) { live[a], live[b] = live[b], live[a] })
		r, err := Compare(desired, live, opts)
		if err != nil {
			t.Fatal(err)
		}
		outs := map[string]string{}
		for _, f := range Formats() {
			var b bytes.Buffer
			if err := Write(&b, f, []*Report{r}, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			outs[f] = b.String()
		}
		if first == nil {
			first = outs
			continue
		}
		for f, o := range outs {
			if o != first[f] {
				t.Errorf("%s output differs with input order %d", f, i)
			}
		}
	}
}

func TestJSONOutputIsTheDocumentedSchema(t *testing.T) {
	var b bytes.Buffer
	if err := Write(&b, "json", storefrontReports(t), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		APIVersion   string `json:"apiVersion"`
		Kind         string `json:"kind"`
		Drift        bool   `json:"drift"`
		Environments []struct {
			Environment string         `json:"environment"`
			Summary     map[string]int `json:"summary"`
			Objects     []struct {
				ID      map[string]string `json:"id"`
				Status  string            `json:"status"`
				Changes []map[string]any  `json:"changes"`
			} `json:"objects"`
		} `json:"environments"`
	}
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.APIVersion != JSONAPIVersion || doc.Kind != "DriftReport" || !doc.Drift || len(doc.Environments) != 2 {
		t.Fatalf("header: %+v", doc)
	}
	allowed := map[string]bool{"path": true, "pointer": true, "kind": true, "old": true, "new": true, "textDiff": true, "managers": true, "setBy": true, "followsRename": true}
	for _, o := range doc.Environments[0].Objects {
		for _, c := range o.Changes {
			for k := range c {
				if !allowed[k] {
					t.Errorf("undocumented change key %q", k)
				}
			}
			switch c["kind"] {
			case "added":
				if _, ok := c["old"]; ok {
					t.Errorf("added change with old: %v", c)
				}
			case "removed", "extra":
				if _, ok := c["new"]; ok {
					t.Errorf("%s change with new: %v", c["kind"], c)
				}
			}
		}
	}
}

func TestMarkdownStaysUnderTheCommentLimit(t *testing.T) {
	// 2,000 changed objects with a long multi-line value each.
	var desired, live []string
	long := strings.Repeat("line of configuration\n", 30)
	for i := range 2000 {
		desired = append(desired, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\n  namespace: shop\ndata:\n  config: |\n%s", i, indent(long+"new\n", "    ")))
		live = append(live, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%04d\n  namespace: shop\ndata:\n  config: |\n%s", i, indent(long+"old\n", "    ")))
	}
	r := mustCompare(t, docs(desired...), docs(live...), Options{Environment: "big"})
	noteRE := regexp.MustCompile(`… (?:details of )?([\d,]+) more objects, ([\d,]+) characters cut`)
	for _, limit := range []int{0, 20000, 1000} {
		var b bytes.Buffer
		if err := Write(&b, "markdown", []*Report{r}, WriteOptions{MaxChars: limit}); err != nil {
			t.Fatal(err)
		}
		lim := limit
		if lim == 0 {
			lim = MarkdownLimit
		}
		if n := utf8.RuneCount(b.Bytes()); n > lim {
			t.Errorf("limit %d: %d characters", lim, n)
		}
		m := noteRE.FindStringSubmatch(b.String())
		if m == nil {
			t.Fatalf("limit %d: no truncation note in\n%s", lim, b.String()[max(0, b.Len()-500):])
		}
		// The note counts what was cut: shown + cut = the whole report.
		var full bytes.Buffer
		if err := Write(&full, "markdown", []*Report{r}, WriteOptions{MaxChars: 1 << 30}); err != nil {
			t.Fatal(err)
		}
		shown := utf8.RuneCountInString(b.String()[:strings.Index(b.String(), "\n> [!NOTE]")])
		cut := atoiComma(m[2])
		if shown+cut != utf8.RuneCount(full.Bytes()) {
			t.Errorf("limit %d: shown %d + cut %d != whole %d", lim, shown, cut, utf8.RuneCount(full.Bytes()))
		}
	}
	// A small report is not cut.
	var b bytes.Buffer
	small := mustCompare(t, desired[0], live[0], Options{})
	if err := Write(&b, "markdown", []*Report{small}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "characters cut") || !strings.Contains(b.String(), "```diff") {
		t.Errorf("small report:\n%s", b.String())
	}
}

func atoiComma(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n = n*10 + int(r-'0')
		}
	}
	return n
}

func TestJUnitIsOneSuitePerEnvironmentAndOneCasePerObject(t *testing.T) {
	reports := storefrontReports(t)
	var b bytes.Buffer
	if err := Write(&b, "junit", reports, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	// Read the report as a CI system does: by element and attribute name.
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string     `xml:"name,attr"`
			Tests    int        `xml:"tests,attr"`
			Failures int        `xml:"failures,attr"`
			Cases    []struct{} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "staging" || doc.Suites[1].Name != "dev" {
		t.Fatalf("suites: %+v", doc.Suites)
	}
	s := doc.Suites[0]
	if s.Tests != 23 || len(s.Cases) != 23 || s.Failures != 9 || doc.Failures != 9 || doc.Tests != 24 {
		t.Errorf("staging: tests %d cases %d failures %d; total tests %d failures %d", s.Tests, len(s.Cases), s.Failures, doc.Tests, doc.Failures)
	}
	if doc.Suites[1].Failures != 0 {
		t.Errorf("dev has failures")
	}
}

func TestUnknownFormatIsAnError(t *testing.T) {
	if err := Write(&bytes.Buffer{}, "yaml", nil, WriteOptions{}); err == nil || !strings.Contains(err.Error(), "text, json, markdown, junit") {
		t.Errorf("err = %v", err)
	}
	if IsFormat("yaml") || !IsFormat("junit") {
		t.Error("IsFormat")
	}
}

func TestMarkdownCodeSpansSurviveBackticks(t *testing.T) {
	for in, want := range map[string]string{
		"plain":   "`plain`",
		"a`b":     "`` a`b ``",
		"``x":     "``` ``x ```",
		"a|b":     "`a|b`",
		"":        "``",
		"`start":  "`` `start ``",
		"end`":    "`` end` ``",
		"x ``` y": "```` x ``` y ````",
	} {
		if got := mdCode(in); got != want {
			t.Errorf("mdCode(%q) = %q, want %q", in, got, want)
		}
	}
}
