package rendercache

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/envctl/envctl/internal/overlay"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func tree(t *testing.T) (filesys.FileSystem, string) {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	files := map[string]string{
		"/repo/env/kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n- name: app\n  literals: [A=1]\n",
		"/repo/env/cm.yaml":            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  k: v\n",
	}
	for p, c := range files {
		if err := fsys.WriteFile(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return fsys, "/repo/env"
}

func render(t *testing.T, fsys filesys.FileSystem, dir string) *overlay.Result {
	t.Helper()
	r, err := overlay.Render(context.Background(), fsys, dir, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func entries(t *testing.T, dir string) []string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "*", "*", "*.entry"))
	return m
}

func TestHitReturnsTheStoredRenderUntilAnInputChanges(t *testing.T) {
	fsys, dir := tree(t)
	c := Open(t.TempDir(), "test", 0)
	key := c.Key(dir, overlay.Options{})
	if _, ok := c.Get(fsys, key); ok {
		t.Fatal("hit on an empty cache")
	}
	r := render(t, fsys, dir)
	if err := c.Put(key, dir, r); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(fsys, key)
	if !ok {
		t.Fatal("miss right after Put")
	}
	if string(got.YAML) != string(r.YAML) || got.Objects != r.Objects {
		t.Fatal("hit returned a different render")
	}
	if err := fsys.WriteFile("/repo/env/cm.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\ndata:\n  k: changed\n")); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(fsys, key); ok {
		t.Fatal("hit after a recorded input changed")
	}
}

func TestKeysDifferByDirectoryOptionsAndBuild(t *testing.T) {
	a := Open("/c", "v1", 0)
	b := Open("/c", "v2", 0)
	if a.Key("/x", overlay.Options{}) == a.Key("/y", overlay.Options{}) {
		t.Error("two directories share a key")
	}
	if a.Key("/x", overlay.Options{}) == b.Key("/x", overlay.Options{}) {
		t.Error("two envctl builds share a key")
	}
	if a.Key("/x", overlay.Options{RemoteTimeout: 1}) == a.Key("/x", overlay.Options{RemoteTimeout: 2}) {
		t.Error("two option sets share a key")
	}
}

func TestCorruptOrTruncatedEntriesAreIgnoredAndRebuilt(t *testing.T) {
	damage := map[string]func([]byte) []byte{
		"truncated body":   func(b []byte) []byte { return b[:len(b)-10] },
		"truncated header": func(b []byte) []byte { return b[:20] },
		"flipped byte": func(b []byte) []byte {
			c := append([]byte(nil), b...)
			c[len(c)-3] ^= 0x20
			return c
		},
		"empty file": func([]byte) []byte { return nil },
		"garbage":    func([]byte) []byte { return []byte("not an entry\x00\x01") },
	}
	for name, f := range damage {
		t.Run(name, func(t *testing.T) {
			fsys, dir := tree(t)
			cdir := t.TempDir()
			c := Open(cdir, "test", 0)
			key := c.Key(dir, overlay.Options{})
			r := render(t, fsys, dir)
			if err := c.Put(key, dir, r); err != nil {
				t.Fatal(err)
			}
			es := entries(t, cdir)
			if len(es) != 1 {
				t.Fatalf("entries = %v", es)
			}
			b, _ := os.ReadFile(es[0])
			if err := os.WriteFile(es[0], f(b), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(fsys, key); ok {
				t.Fatal("a damaged entry was served")
			}
			if err := c.Put(key, dir, r); err != nil {
				t.Fatal(err)
			}
			got, ok := c.Get(fsys, key)
			if !ok || string(got.YAML) != string(r.YAML) {
				t.Fatal("entry was not rebuilt")
			}
		})
	}
}

func TestConcurrentWritersNeverExposeHalfAnEntry(t *testing.T) {
	fsys, dir := tree(t)
	cdir := t.TempDir()
	r := render(t, fsys, dir)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := Open(cdir, "test", 0)
			key := c.Key(dir, overlay.Options{})
			for j := 0; j < 20; j++ {
				if err := c.Put(key, dir, r); err != nil {
					t.Error(err)
					return
				}
				if got, ok := c.Get(fsys, key); ok && string(got.YAML) != string(r.YAML) {
					t.Error("read a different render")
					return
				}
			}
		}()
	}
	wg.Wait()
	leftovers, _ := filepath.Glob(filepath.Join(cdir, "*", "*", ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

func TestOldInputSetsAreKeptForBranchSwitching(t *testing.T) {
	fsys, dir := tree(t)
	c := Open(t.TempDir(), "test", 0)
	key := c.Key(dir, overlay.Options{})
	versions := []string{"A=1", "A=2"}
	for _, v := range versions {
		_ = fsys.WriteFile("/repo/env/kustomization.yaml", []byte("resources: [cm.yaml]\nconfigMapGenerator:\n- name: app\n  literals: ["+v+"]\n"))
		if err := c.Put(key, dir, render(t, fsys, dir)); err != nil {
			t.Fatal(err)
		}
	}
	_ = fsys.WriteFile("/repo/env/kustomization.yaml", []byte("resources: [cm.yaml]\nconfigMapGenerator:\n- name: app\n  literals: [A=1]\n"))
	if _, ok := c.Get(fsys, key); !ok {
		t.Fatal("switching back to the first input set missed")
	}
}

func TestRemoteRendersAreNotStored(t *testing.T) {
	c := Open(t.TempDir(), "test", 0)
	r := &overlay.Result{YAML: []byte("a: b\n"), Objects: 1, Remote: []string{"https://example.com/x"}}
	if err := c.Put(c.Key("/x", overlay.Options{}), "/x", r); err != nil {
		t.Fatal(err)
	}
	if es := entries(t, c.dir); len(es) != 0 {
		t.Fatalf("a remote render was cached: %v", es)
	}
}

func TestNilCacheNeverHits(t *testing.T) {
	var c *Cache
	if _, ok := c.Get(nil, "k"); ok {
		t.Fatal("nil cache hit")
	}
	if err := c.Put("k", "/x", &overlay.Result{}); err != nil {
		t.Fatal(err)
	}
}
