package validate

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/repo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// repoReport validates the environments of testdata/repo as envctl
// validate --all does.
func repoReport(t *testing.T, envs ...string) *Report {
	t.Helper()
	root, err := filepath.Abs("testdata/repo")
	if err != nil {
		t.Fatal(err)
	}
	fsys := filesys.MakeFsOnDisk()
	r, err := repo.Open(fsys, root)
	if err != nil {
		t.Fatal(err)
	}
	checks, err := LoadChecks(fsys, root, &r.Config, true)
	if err != nil {
		t.Fatal(err)
	}
	v, err := New(Options{Strict: true}, checks)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []Input
	for _, env := range r.Environments() {
		if len(envs) > 0 && !strings.Contains(strings.Join(envs, ","), env.Name) {
			continue
		}
		res, err := overlay.Render(context.Background(), fsys, env.Path, overlay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, Input{Env: env.Name, Streams: []Stream{{Data: res.YAML}}, Origins: func(ctx context.Context) (map[Object]Origin, error) {
			return originsOf(overlay.Origins(ctx, fsys, root, env.Path, overlay.Options{}))
		}})
	}
	rep, err := v.Validate(context.Background(), inputs)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// originsOf converts what overlay.Origins returns to validate's types, as
// the CLI does: validate does not import the renderer.
func originsOf(m map[overlay.ObjectID]overlay.Origin, err error) (map[Object]Origin, error) {
	if err != nil {
		return nil, err
	}
	out := make(map[Object]Origin, len(m))
	for id, o := range m {
		out[Object(id)] = Origin{Source: Source{File: o.File, Line: o.Line}, Doc: o.Doc}
	}
	return out, nil
}

// The report on testdata/repo in every format, pinned. Regenerate with
// go test ./internal/validate -update and review the diff; the CLI's
// testscripts compare envctl validate's output with the same files.
func TestGoldenOutputs(t *testing.T) {
	rep := repoReport(t)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, rep); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "golden", "repo."+map[string]string{"text": "txt", "json": "json", "junit": "xml", "sarif": "sarif", "markdown": "md"}[format])
			if *update {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s output differs from %s; rerun with -update and review the diff\n%s", format, golden, buf.String())
			}
			if format == "json" || format == "sarif" {
				if !json.Valid(buf.Bytes()) {
					t.Error("not JSON")
				}
			}
		})
	}
}

// The SARIF log has what GitHub code scanning needs: every result names
// a rule the driver lists (ruleIndex pointing at it), a message, and a
// physical location with a repository-relative file and a start line.
func TestSARIFIsUsableByCodeScanning(t *testing.T) {
	rep := repoReport(t)
	var buf bytes.Buffer
	if err := Write(&buf, "sarif", rep); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Name  string `json:"name"`
					Rules []struct {
						ID               string                `json:"id"`
						ShortDescription struct{ Text string } `json:"shortDescription"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Message   struct{ Text string }
				Locations []struct {
					PhysicalLocation *struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
			Invocations []struct {
				ExecutionSuccessful bool `json:"executionSuccessful"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 || log.Runs[0].Tool.Driver.Name != "envctl" {
		t.Fatalf("header: %+v", log)
	}
	run := log.Runs[0]
	ids := map[string]bool{}
	for _, r := range run.Tool.Driver.Rules {
		if ids[r.ID] || r.ShortDescription.Text == "" {
			t.Errorf("rule %q: duplicate or undescribed", r.ID)
		}
		ids[r.ID] = true
	}
	if len(run.Results) == 0 {
		t.Fatal("no results")
	}
	fingerprints := map[string]bool{}
	for _, r := range run.Results {
		if r.RuleIndex < 0 || r.RuleIndex >= len(run.Tool.Driver.Rules) || run.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID {
			t.Errorf("result %q: ruleIndex %d does not point at its rule", r.RuleID, r.RuleIndex)
		}
		if r.Message.Text == "" || len(r.Locations) != 1 || r.Locations[0].PhysicalLocation == nil {
			t.Errorf("result %q (%s): no message or location", r.RuleID, r.Message.Text)
			continue
		}
		pl := r.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URI == "" || filepath.IsAbs(pl.ArtifactLocation.URI) || pl.Region.StartLine < 1 {
			t.Errorf("result %q: location %+v", r.Message.Text, pl)
		}
		if _, err := os.Stat(filepath.Join("testdata/repo", pl.ArtifactLocation.URI)); err != nil {
			t.Errorf("result %q: %s is not a file of the repository", r.Message.Text, pl.ArtifactLocation.URI)
		}
		fp := r.PartialFingerprints["envctlFinding/v1"]
		if fp == "" || fingerprints[fp] {
			t.Errorf("result %q: fingerprint %q missing or shared", r.Message.Text, fp)
		}
		fingerprints[fp] = true
	}
	if run.Invocations[0].ExecutionSuccessful {
		t.Error("objects could not be checked, but executionSuccessful is true")
	}
}
