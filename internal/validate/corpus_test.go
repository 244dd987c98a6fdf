package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/envctl/envctl/internal/k8sschema"
	"github.com/envctl/envctl/internal/testtools"
)

// The corpus (testdata/corpus) holds valid and invalid objects of the
// core kinds. Each document starts with a comment saying what envctl must
// find:
//
//	# expect: valid
//	# expect: invalid /spec/replicas [/other/path ...]
//	# expect: error
//	# expect: invalid /data/a:b envctl=/stringData
//
// An invalid object's problems must be exactly at the listed paths. An
// envctl=PATH token says envctl reports the problem elsewhere than the API
// server does, on purpose (a Secret's key is named by position, never
// printed).

type expectation struct {
	file   string // "deployment.yaml"
	line   int    // the document's first content line
	name   string // metadata.name, for messages
	status Status
	paths  []string
	// ours are envctl's paths where they differ from the API server's.
	ours []string
}

// envctlPaths are the paths envctl must report.
func (e expectation) envctlPaths() []string {
	if e.ours != nil {
		return e.ours
	}
	return e.paths
}

func (e expectation) id() string { return e.file + "/" + e.name }

func readCorpus(t *testing.T, pattern string) ([]Stream, []expectation) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var streams []Stream
	var exps []expectation
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, Stream{Name: f, Data: data})
		for _, d := range splitDocuments(data) {
			e := expectation{file: filepath.Base(f), line: d.Line, status: -1}
			for _, l := range strings.Split(string(d.Data), "\n") {
				if rest, ok := strings.CutPrefix(l, "# expect: "); ok {
					fields := strings.Fields(rest)
					switch fields[0] {
					case "valid":
						e.status = Valid
					case "invalid":
						e.status = Invalid
						for _, f := range fields[1:] {
							if p, ok := strings.CutPrefix(f, "envctl="); ok {
								e.ours = append(e.ours, p)
							} else {
								e.paths = append(e.paths, f)
							}
						}
					case "error":
						e.status = Error
					default:
						t.Fatalf("%s:%d: bad expectation %q", f, d.Line, rest)
					}
				}
			}
			if e.status < 0 {
				t.Fatalf("%s:%d: the document says nothing about what to expect (# expect: ...)", f, d.Line)
			}
			if obj, err := slowDecodeObject(d.Data, false); err == nil {
				if m, ok := obj["metadata"].(map[string]any); ok && m["name"] != nil {
					e.name = fmt.Sprint(m["name"])
				}
			}
			if e.name == "" {
				e.name = fmt.Sprintf("line-%d", d.Line)
			}
			exps = append(exps, e)
		}
	}
	return streams, exps
}

func validateCorpus(t *testing.T, streams []Stream) map[string]Result {
	t.Helper()
	v, err := New(Options{Strict: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := v.Validate(context.Background(), []Input{{Streams: streams}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[fmt.Sprintf("%s:%d", filepath.Base(r.Source.File), r.Source.Line)] = r
	}
	return got
}

func TestCorpus(t *testing.T) {
	streams, exps := readCorpus(t, "testdata/corpus/*.yaml")
	if len(exps) < 100 {
		t.Errorf("the corpus has %d documents; it should cover at least 100", len(exps))
	}
	got := validateCorpus(t, streams)
	kinds := map[string]bool{}
	for _, e := range exps {
		r, ok := got[fmt.Sprintf("%s:%d", e.file, e.line)]
		if !ok {
			t.Errorf("%s: no result", e.id())
			continue
		}
		kinds[r.Object.Kind] = true
		if r.Status != e.status {
			t.Errorf("%s: %s, want %s (%s%v)", e.id(), r.Status, e.status, r.Reason, r.Problems)
			continue
		}
		var paths []string
		for _, p := range r.Problems {
			paths = append(paths, p.Path)
		}
		slices.Sort(paths)
		paths = slices.Compact(paths)
		want := slices.Sorted(slices.Values(e.paths))
		if !slices.Equal(paths, want) {
			t.Errorf("%s: problems at %v, want %v (%v)", e.id(), paths, want, r.Problems)
		}
	}
	if len(kinds) < 25 {
		t.Errorf("the corpus covers %d kinds", len(kinds))
	}
	t.Logf("%d documents, %d kinds", len(exps), len(kinds))
}

// testdata/corpus/crd: custom resources rendered with their CRD. (Not
// compared with kubeconform, which has no schemas for them.)
func TestCRDCorpus(t *testing.T) {
	streams, exps := readCorpus(t, "testdata/corpus/crd/*.yaml")
	got := validateCorpus(t, streams)
	for _, e := range exps {
		r := got[fmt.Sprintf("%s:%d", e.file, e.line)]
		var paths []string
		for _, p := range r.Problems {
			paths = append(paths, p.Path)
		}
		if r.Status != e.status || !slices.Equal(slices.Compact(paths), e.paths) {
			t.Errorf("%s: %s %v, want %s %v (%s)", e.id(), r.Status, r.Problems, e.status, e.paths, r.Reason)
		}
	}
}

// kubeconformDisagreements lists the corpus documents on which
// kubeconform v0.8.0 -strict, with the same schemas, reaches another
// verdict than envctl, and why envctl's is the right one.
var kubeconformDisagreements = map[string]struct {
	kubeconform Status
	why         string
}{
	"edge.yaml/duplicate-key": {Error, "kubeconform -strict cannot decode a document with a duplicate key and reports an error; " +
		"the document is a valid YAML stream for kubectl, and the API server's strict field validation rejects it as a finding " +
		"(duplicate field \"replicas\"), which is what envctl reports, at the field's path"},
	"edge.yaml/int64-max": {Invalid, "kubeconform decodes numbers into float64, so 9223372036854775807 becomes 9223372036854775808 " +
		"and exceeds the int64 maximum; envctl keeps integers exact, as the API server does, and the value is the largest valid int64"},
}

// TestKubeconformAgrees runs kubeconform v0.8.0 with -strict on the corpus,
// with schemas exported for the same Kubernetes version
// (k8sschema.ExportKubeconform, strict), and requires the same verdict on
// every document, but for the listed disagreements.
func TestKubeconformAgrees(t *testing.T) {
	kc := testtools.Kubeconform(t)
	streams, exps := readCorpus(t, "testdata/corpus/*.yaml")
	dir := t.TempDir()
	if err := k8sschema.ExportKubeconform(dir, k8sschema.Newest(), true); err != nil {
		t.Fatal(err)
	}
	args := []string{"-strict", "-verbose", "-output", "json", "-schema-location", filepath.Join(dir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")}
	for _, s := range streams {
		abs, _ := filepath.Abs(s.Name)
		args = append(args, abs)
	}
	cmd := exec.Command(kc, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	var out struct {
		Resources []struct {
			Filename, Name, Status, Msg string
		} `json:"resources"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("kubeconform output: %v\n%s\n%s", err, stdout.Bytes(), stderr.Bytes())
	}
	// kubeconform validates a file's documents concurrently: match them
	// by name, and the unnamed ones (which only fail to decode) by verdict.
	theirs := map[string]Status{}
	msgs := map[string]string{}
	unnamed := map[string][]Status{}
	for _, r := range out.Resources {
		st := map[string]Status{"statusValid": Valid, "statusInvalid": Invalid, "statusError": Error, "statusSkipped": Skipped}[r.Status]
		id := filepath.Base(r.Filename) + "/" + r.Name
		if _, dup := theirs[id]; dup || r.Name == "" {
			unnamed[filepath.Base(r.Filename)] = append(unnamed[filepath.Base(r.Filename)], st)
			continue
		}
		theirs[id], msgs[id] = st, r.Msg
	}
	ours := validateCorpus(t, streams)
	judged := 0
	oursUnnamed := map[string][]Status{}
	for _, e := range exps {
		our := ours[fmt.Sprintf("%s:%d", e.file, e.line)].Status
		their, ok := theirs[e.id()]
		if !ok {
			oursUnnamed[e.file] = append(oursUnnamed[e.file], our)
			continue
		}
		judged++
		d, listed := kubeconformDisagreements[e.id()]
		switch {
		case listed && (their != d.kubeconform || our == their):
			t.Errorf("%s: listed as a disagreement (kubeconform %s), but kubeconform says %s and envctl %s; update the table", e.id(), d.kubeconform, their, our)
		case !listed && their != our:
			t.Errorf("%s: envctl says %s, kubeconform says %s (%s)", e.id(), our, their, msgs[e.id()])
		}
	}
	for f, st := range oursUnnamed {
		judged += len(st)
		slices.Sort(st)
		th := slices.Sorted(slices.Values(unnamed[f]))
		if !slices.Equal(st, th) {
			t.Errorf("%s: documents kubeconform does not name: envctl says %v, kubeconform %v", f, st, th)
		}
	}
	if judged != len(exps) {
		t.Errorf("kubeconform judged %d of %d documents", judged, len(exps))
	}
	for id := range kubeconformDisagreements {
		if !slices.ContainsFunc(exps, func(e expectation) bool { return e.id() == id }) {
			t.Errorf("disagreement %s is not in the corpus", id)
		}
	}
	t.Logf("kubeconform judged %d documents; %d disagreements, each explained", judged, len(kubeconformDisagreements))
}

// serverCorpora are the corpora whose expectations are the real API
// server's verdicts (TestCorpusAgreesWithTheAPIServer checks them there).
var serverCorpora = []string{"testdata/corpus/cel/*.yaml", "testdata/corpus/limits/*.yaml"}

// TestServerCorpora holds envctl to the API server's verdicts: custom
// resources against the CEL rules of their CRDs.
func TestServerCorpora(t *testing.T) {
	for _, pattern := range serverCorpora {
		streams, exps := readCorpus(t, pattern)
		got := validateCorpus(t, streams)
		for _, e := range exps {
			r := got[fmt.Sprintf("%s:%d", e.file, e.line)]
			var paths []string
			for _, p := range r.Problems {
				paths = append(paths, p.Path)
			}
			slices.Sort(paths)
			paths = slices.Compact(paths)
			want := slices.Sorted(slices.Values(e.envctlPaths()))
			if r.Status != e.status || !slices.Equal(paths, want) {
				t.Errorf("%s: %s %v, want %s %v (%s)", e.id(), r.Status, r.Problems, e.status, want, r.Reason)
			}
		}
	}
}
