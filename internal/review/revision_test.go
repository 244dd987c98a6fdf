package review

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
)

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// countingRender renders with overlay.Render and counts the renders per
// directory, so a test sees what the cache spared.
type countingRender struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *countingRender) render(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options) (*overlay.Result, error) {
	c.mu.Lock()
	c.n[filepath.Base(dir)]++
	c.mu.Unlock()
	return overlay.Render(ctx, fsys, dir, opts)
}

func TestOnlyEnvironmentsWhoseInputsChangedAreRenderedTwice(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  K: " + v + "\n"
	}
	write(t, dir, map[string]string{
		"base/kustomization.yaml":           "resources:\n- cm.yaml\n",
		"base/cm.yaml":                      cm("one"),
		"environments/a/kustomization.yaml": "resources:\n- ../../base\nnamespace: a\n",
		"environments/b/kustomization.yaml": "resources:\n- ../../base\nnamespace: b\n",
		"environments/c/kustomization.yaml": "resources:\n- ../../base\nnamespace: c\n",
	})
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "one")
	// b changes; a and c do not.
	write(t, dir, map[string]string{"environments/b/kustomization.yaml": "resources:\n- ../../base\nnamespace: b\nlabels:\n- pairs: {x: lbl}\n"})

	fsys := filesys.MakeFsOnDisk()
	r, err := repo.Open(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	cache := rendercache.Open(filepath.Join(t.TempDir(), "cache"), "test", 0)
	counter := &countingRender{n: map[string]int{}}
	req := RevisionRequest{Rev: "HEAD", Render: render.Request{FS: fsys, Envs: r.Environments(), Root: dir, Cache: cache, Jobs: 1, RenderFunc: counter.render}}

	out, err := Revision(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	// Cold: each environment once in the working tree, and b once more at
	// HEAD.
	if counter.n["a"] != 1 || counter.n["b"] != 2 || counter.n["c"] != 1 || out.Rendered != 1 {
		t.Errorf("renders %v, rendered at HEAD %d", counter.n, out.Rendered)
	}
	want := map[string]bool{"a": false, "b": true, "c": false}
	for _, rep := range out.Reports {
		if rep.HasDrift() != want[rep.Environment] || rep.Identical == want[rep.Environment] {
			t.Errorf("%s: drift %v identical %v", rep.Environment, rep.HasDrift(), rep.Identical)
		}
	}
	// Warm: nothing is rendered, both sides come from the cache.
	counter.n = map[string]int{}
	out, err = Revision(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if len(counter.n) != 0 || out.Rendered != 1 {
		t.Errorf("warm: renders %v, rendered at HEAD %d", counter.n, out.Rendered)
	}
	var b *drift.Report
	for _, rep := range out.Reports {
		if rep.Environment == "b" {
			b = rep
		}
	}
	if b == nil || b.Summary.Changed != 1 || b.Objects[0].Changes[0].Path != "metadata.labels" {
		t.Errorf("b: %+v", b)
	}
}

func TestARevisionThatDoesNotRenderNamesTheRevision(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	write(t, dir, map[string]string{"environments/a/kustomization.yaml": "resources:\n- missing.yaml\n"})
	gitIn(t, dir, "init", "-q")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "broken")
	write(t, dir, map[string]string{"environments/a/kustomization.yaml": "resources: []\n"})
	fsys := filesys.MakeFsOnDisk()
	r, err := repo.Open(fsys, dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Revision(context.Background(), RevisionRequest{Rev: "HEAD", Render: render.Request{FS: fsys, Envs: r.Environments(), Root: dir}})
	if err == nil || !regexpMatch(`^at revision HEAD: .*missing\.yaml`, err.Error()) {
		t.Errorf("err = %v", err)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }
