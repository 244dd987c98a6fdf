package overlay

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/envctl/envctl/internal/testtools"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

var update = flag.Bool("update", false, "regenerate expected.yaml files with the kustomize CLI")

type tcase struct {
	name, dir, entry string
}

func cases(t *testing.T, root string) []tcase {
	t.Helper()
	dirs, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var out []tcase
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		dir, _ := filepath.Abs(filepath.Join(root, d.Name()))
		entry := "."
		if b, err := os.ReadFile(filepath.Join(dir, "ENTRY")); err == nil {
			entry = strings.TrimSpace(string(b))
		}
		out = append(out, tcase{d.Name(), dir, filepath.Join(dir, entry)})
	}
	if len(out) == 0 {
		t.Fatalf("no cases in %s", root)
	}
	return out
}

func kustomizeBuild(t *testing.T, bin, dir string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(bin, "build", dir)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kustomize build %s: %v\n%s", dir, err, stderr.Bytes())
	}
	return out
}

// TestOutputIsByteIdenticalToKustomize renders each conformance tree and
// compares with expected.yaml (what kustomize v5.8.2 printed, reviewed in
// the diff) and with a fresh run of the kustomize CLI.
func TestOutputIsByteIdenticalToKustomize(t *testing.T) {
	kustomize := testtools.Kustomize(t)
	for _, c := range cases(t, "testdata/conformance") {
		t.Run(c.name, func(t *testing.T) {
			want := kustomizeBuild(t, kustomize, c.entry)
			golden := filepath.Join(c.dir, "expected.yaml")
			if *update {
				if err := os.WriteFile(golden, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			committed, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(committed, want) {
				t.Errorf("kustomize's output differs from %s; rerun with -update and review the diff", golden)
			}
			r, err := Render(context.Background(), filesys.MakeFsOnDisk(), c.entry, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.YAML, want) {
				t.Errorf("envctl and kustomize differ:\n%s", firstDiff(r.YAML, want))
			}
		})
	}
}

// TestParallelRendersMatchSerialOnes guards against kustomize's global
// state: all trees rendered at once must give what each gives alone.
func TestParallelRendersMatchSerialOnes(t *testing.T) {
	cs := cases(t, "testdata/conformance")
	fsys := filesys.MakeFsOnDisk()
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for _, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				want, err := os.ReadFile(filepath.Join(c.dir, "expected.yaml"))
				if err != nil {
					t.Error(err)
					return
				}
				r, err := Render(context.Background(), fsys, c.entry, Options{})
				if err != nil {
					t.Errorf("%s: %v", c.name, err)
					return
				}
				if !bytes.Equal(r.YAML, want) {
					t.Errorf("%s: parallel render differs:\n%s", c.name, firstDiff(r.YAML, want))
				}
			}()
		}
	}
	wg.Wait()
}

// TestBadTreesFailWithKustomizesMessage checks each bad tree fails with the
// message recorded from the kustomize CLI, or renders nothing where kustomize
// renders nothing.
func TestBadTreesFailWithKustomizesMessage(t *testing.T) {
	for _, c := range cases(t, "testdata/bad") {
		t.Run(c.name, func(t *testing.T) {
			r, err := Render(context.Background(), filesys.MakeFsOnDisk(), c.entry, Options{})
			if _, statErr := os.Stat(filepath.Join(c.dir, "EMPTY")); statErr == nil {
				if err != nil {
					t.Fatalf("want an empty render, got %v", err)
				}
				if r.Objects != 0 || len(r.YAML) != 0 {
					t.Fatalf("want no objects, got %d", r.Objects)
				}
				return
			}
			want, rerr := os.ReadFile(filepath.Join(c.dir, "ERROR"))
			if rerr != nil {
				t.Fatal(rerr)
			}
			if err == nil {
				t.Fatalf("render succeeded, want an error containing %q", want)
			}
			if !strings.Contains(err.Error(), strings.TrimSpace(string(want))) {
				t.Errorf("error %q\ndoes not contain %q", err, want)
			}
		})
	}
}

func firstDiff(got, want []byte) string {
	g, w := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  envctl:    " + gl + "\n  kustomize: " + wl
		}
	}
	return "(lengths differ)"
}
