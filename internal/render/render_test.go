package render

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func envs(t *testing.T, bodies map[string]string) (filesys.FileSystem, []repo.Environment) {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	var out []repo.Environment
	for _, name := range []string{"a", "b", "c", "d"} {
		body, ok := bodies[name]
		if !ok {
			continue
		}
		dir := "/r/environments/" + name
		if err := fsys.WriteFile(dir+"/kustomization.yaml", []byte(body)); err != nil {
			t.Fatal(err)
		}
		out = append(out, repo.Environment{Name: name, Path: dir})
	}
	return fsys, out
}

const good = "configMapGenerator:\n- name: x\n  literals: [A=1]\n"

func TestRenderKeepsTheRequestedOrderAndUsesTheCache(t *testing.T) {
	fsys, es := envs(t, map[string]string{"a": good, "b": good, "c": good})
	cache := rendercache.Open(t.TempDir(), "test", 0)
	var events atomic.Int32
	req := Request{FS: fsys, Envs: es, Cache: cache, Jobs: 2, Progress: func(Event) { events.Add(1) }}
	out, err := Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range out {
		if r.Env.Name != es[i].Name || r.Cached || r.Result.Objects != 1 {
			t.Errorf("out[%d] = %s cached=%v objects=%d", i, r.Env.Name, r.Cached, r.Result.Objects)
		}
	}
	if events.Load() != 6 {
		t.Errorf("progress events = %d, want a start and a finish per environment", events.Load())
	}
	out, err = Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out {
		if !r.Cached {
			t.Errorf("%s was rendered again", r.Env.Name)
		}
	}
}

func TestEveryFailureIsReportedInNameOrderAndNothingIsReturned(t *testing.T) {
	fsys, es := envs(t, map[string]string{"a": good, "b": "resources: [missing-b.yaml]\n", "c": good, "d": "resources: [missing-d.yaml]\n"})
	out, err := Render(context.Background(), Request{FS: fsys, Envs: es, Jobs: 3})
	if err == nil || out != nil {
		t.Fatalf("out=%v err=%v", out, err)
	}
	msg := err.Error()
	b, d := strings.Index(msg, "missing-b.yaml"), strings.Index(msg, "missing-d.yaml")
	if b < 0 || d < 0 || b > d {
		t.Errorf("want both failures, b before d: %s", msg)
	}
}

func TestSinkGetsEachEnvironmentOnceAndRenderKeepsNoYAML(t *testing.T) {
	fsys, es := envs(t, map[string]string{"a": good, "b": good, "c": good})
	cache := rendercache.Open(t.TempDir(), "test", 0)
	for pass := range 2 { // the second pass is served from the cache
		got := map[string]string{}
		out, err := Render(context.Background(), Request{FS: fsys, Envs: es, Jobs: 2, Cache: cache, Sink: func(r Rendered) error {
			got[r.Env.Name] = string(r.Result.YAML) // calls are serialised: no lock needed
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || !strings.Contains(got["b"], "kind: ConfigMap") {
			t.Fatalf("pass %d: sink got %v", pass, got)
		}
		for _, r := range out {
			if r.Result.YAML != nil || r.Result.Objects != 1 {
				t.Errorf("pass %d: %s kept %d bytes of YAML, %d objects", pass, r.Env.Name, len(r.Result.YAML), r.Result.Objects)
			}
		}
	}
}

func TestASinkErrorFailsThatEnvironment(t *testing.T) {
	fsys, es := envs(t, map[string]string{"a": good, "b": good})
	_, err := Render(context.Background(), Request{FS: fsys, Envs: es, Sink: func(r Rendered) error {
		if r.Env.Name == "b" {
			return errors.New("disk full")
		}
		return nil
	}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v", err)
	}
}

func TestRenderFuncRendersTheMissesAndTheirResultsAreCached(t *testing.T) {
	fsys, es := envs(t, map[string]string{"a": good, "b": good, "c": good})
	cache := rendercache.Open(t.TempDir(), "test", 0)
	var calls atomic.Int32
	req := Request{FS: fsys, Envs: es, Cache: cache, Jobs: 2,
		RenderFunc: func(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options) (*overlay.Result, error) {
			calls.Add(1)
			return overlay.Render(ctx, fsys, dir, opts)
		}}
	if _, err := Render(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 {
		t.Errorf("RenderFunc called %d times on a cold cache, want 3", calls.Load())
	}
	// Edit one environment: only it is rendered again.
	if err := fsys.WriteFile("/r/environments/b/kustomization.yaml", []byte(strings.Replace(good, "A=1", "A=2", 1))); err != nil {
		t.Fatal(err)
	}
	out, err := Render(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 {
		t.Errorf("RenderFunc called %d times in all, want 4 (one more, for the edit)", calls.Load())
	}
	for _, r := range out {
		if r.Cached != (r.Env.Name != "b") {
			t.Errorf("%s: cached = %v", r.Env.Name, r.Cached)
		}
	}
}
