package yamlguard

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestMapFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.yaml")
	want := "apiVersion: v1\nkind: ConfigMap\n"
	if err := os.WriteFile(p, []byte(want), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, unmap, ok, err := MapFile(f, 0)
	if err != nil || !ok || string(data) != want {
		t.Fatalf("MapFile = %q, ok=%v, %v", data, ok, err)
	}
	if err := unmap(); err != nil {
		t.Fatal(err)
	}

	var se *SizeError
	if _, _, ok, err := MapFile(f, 10); ok || !errors.As(err, &se) || se.Size != int64(len(want)) {
		t.Errorf("a file over the limit: ok=%v, %v; want a *SizeError of %d bytes", ok, err, len(want))
	}

	// What cannot be mapped is left to the caller to read.
	empty := filepath.Join(dir, "empty.yaml")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{empty, dir} {
		g, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok, err := MapFile(g, 0); ok || err != nil {
			t.Errorf("%s: ok=%v, %v; want not mapped, no error", name, ok, err)
		}
		g.Close()
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, _, ok, err := MapFile(r, 0); ok || err != nil {
		t.Errorf("a pipe: ok=%v, %v; want not mapped, no error", ok, err)
	}
}
