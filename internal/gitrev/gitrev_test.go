package gitrev

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// gitIn runs git in dir with a fixed identity, so commits need no
// configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t",
		"GIT_COMMITTER_EMAIL=t@example.com", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
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

// fixture is a repository with two commits; the first is tagged v1. The
// envctl root is the app/ subdirectory, as in a monorepo.
func fixture(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	writeFiles(t, dir, map[string]string{
		".gitignore":                      "*.env\n",
		"app/base/kustomization.yaml":     "resources:\n- cm.yaml\n",
		"app/base/cm.yaml":                "kind: ConfigMap\nname: v1\n",
		"app/base/.hidden.yaml":           "x\n",
		"app/env/prod/kustomization.yaml": "resources:\n- ../../base\n",
		"app/env/prod/extra.yaml":         "old\n",
		"app/docs/a.txt":                  "a\n",
	})
	if err := os.Symlink("../base/cm.yaml", filepath.Join(dir, "app/env/link.yaml")); err != nil {
		t.Fatal(err)
	}
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "one")
	gitIn(t, dir, "tag", "v1")
	writeFiles(t, dir, map[string]string{
		"app/base/cm.yaml":               "kind: ConfigMap\nname: v2\n",
		"app/env/dev/kustomization.yaml": "resources:\n- ../../base\n",
	})
	os.Remove(filepath.Join(dir, "app/env/prod/extra.yaml"))
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "two")
	// Not versioned: the same at every revision.
	writeFiles(t, dir, map[string]string{"app/env/prod/secret.env": "PASSWORD=x\n"})
	return dir
}

func TestTheTreeOfARevisionAnswersAsItsCheckoutWould(t *testing.T) {
	dir := fixture(t)
	ctx := context.Background()
	root := filepath.Join(dir, "app")
	tree, err := Open(ctx, root, "v1")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if tree.Top() != dir {
		t.Errorf("Top() = %s, want %s", tree.Top(), dir)
	}

	// A checkout of v1 in a second directory, spelled with the same
	// root, is what the tree must answer like.
	co := t.TempDir()
	gitIn(t, dir, "worktree", "add", "-q", "--detach", co, "v1")
	writeFiles(t, co, map[string]string{"app/env/prod/secret.env": "PASSWORD=x\n"})
	onDisk := filesys.MakeFsOnDisk()
	remap := func(p string) string { return strings.Replace(p, dir, co, 1) }

	paths := []string{
		"app", "app/base", "app/base/cm.yaml", "app/base/.hidden.yaml", "app/env/prod/extra.yaml",
		"app/env/dev", "app/env/dev/kustomization.yaml", "app/env/link.yaml", "app/nope",
		"app/env/prod/secret.env", "app/env/prod/../../base/cm.yaml", ".gitignore",
	}
	for _, p := range paths {
		abs := filepath.Join(dir, p)
		if got, want := tree.Exists(abs), onDisk.Exists(remap(abs)); got != want {
			t.Errorf("Exists(%s) = %v, checkout says %v", p, got, want)
		}
		if got, want := tree.IsDir(abs), onDisk.IsDir(remap(abs)); got != want {
			t.Errorf("IsDir(%s) = %v, checkout says %v", p, got, want)
		}
		gb, gerr := tree.ReadFile(abs)
		wb, werr := onDisk.ReadFile(remap(abs))
		if (gerr == nil) != (werr == nil) || string(gb) != string(wb) {
			t.Errorf("ReadFile(%s) = %q, %v; checkout says %q, %v", p, gb, gerr, wb, werr)
		}
		if werr != nil && !onDisk.IsDir(remap(abs)) && !errors.Is(gerr, os.ErrNotExist) {
			t.Errorf("ReadFile(%s): %v is not a not-exist error", p, gerr)
		}
		if onDisk.IsDir(remap(abs)) {
			gn, _ := tree.ReadDir(abs)
			wn, _ := onDisk.ReadDir(remap(abs))
			if !reflect.DeepEqual(gn, sortedUnique(wn)) {
				t.Errorf("ReadDir(%s) = %v, checkout says %v", p, gn, wn)
			}
		}
		if onDisk.Exists(remap(abs)) {
			gd, gf, gerr := tree.CleanedAbs(abs)
			wd, wf, werr := onDisk.CleanedAbs(remap(abs))
			if gerr != nil || werr != nil || remap(string(gd)) != string(wd) || gf != wf {
				t.Errorf("CleanedAbs(%s) = %s %q %v; checkout says %s %q %v", p, gd, gf, gerr, wd, wf, werr)
			}
		}
	}
	glob := func(fsys filesys.FileSystem, pattern string) []string {
		ms, err := fsys.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		return ms
	}
	for _, pat := range []string{"app/base/*.yaml", "app/env/*/kustomization.yaml", "app/env/prod/*", "app/base/.*"} {
		got := glob(tree, filepath.Join(dir, pat))
		want := glob(onDisk, filepath.Join(co, pat))
		for i := range got {
			got[i] = remap(got[i])
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Glob(%s) = %v, checkout says %v", pat, got, want)
		}
	}
	walk := func(fsys filesys.FileSystem, root string) []string {
		var out []string
		err := fsys.Walk(root, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			r, _ := filepath.Rel(root, p)
			out = append(out, r+map[bool]string{true: "/"}[info.IsDir()])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := walk(tree, filepath.Join(dir, "app/env")), walk(onDisk, filepath.Join(co, "app/env")); !reflect.DeepEqual(got, want) {
		t.Errorf("Walk = %v, checkout says %v", got, want)
	}
}

func TestTheTreeIsReadOnly(t *testing.T) {
	dir := fixture(t)
	tree, err := Open(context.Background(), dir, "HEAD~1")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	if err := tree.WriteFile(filepath.Join(dir, "app/x"), []byte("x")); err == nil {
		t.Error("WriteFile in the repository succeeded")
	}
	if err := tree.RemoveAll(filepath.Join(dir, "app")); err == nil {
		t.Error("RemoveAll in the repository succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "app/base")); err != nil {
		t.Errorf("the working tree changed: %v", err)
	}
	// Outside the repository (kustomize's clones of remote bases) it
	// writes to disk.
	out := filepath.Join(t.TempDir(), "f")
	if err := tree.WriteFile(out, []byte("x")); err != nil {
		t.Errorf("WriteFile outside the repository: %v", err)
	}
}

func TestBadRevisionsAreClearErrors(t *testing.T) {
	dir := fixture(t)
	ctx := context.Background()

	_, err := Open(ctx, dir, "no-such-branch")
	var unknown *UnknownRevisionError
	if !errors.As(err, &unknown) || unknown.Shallow {
		t.Errorf("unknown ref: %v", err)
	}
	for _, rev := range []string{"", "--all", "HEAD~5"} {
		if _, err := Open(ctx, dir, rev); !errors.As(err, &unknown) {
			t.Errorf("Open(%q) = %v, want an unknown revision", rev, err)
		}
	}

	notRepo := t.TempDir()
	_, err = Open(ctx, notRepo, "HEAD")
	var nr *NotRepositoryError
	if !errors.As(err, &nr) {
		t.Errorf("not a repository: %v", err)
	}

	shallow := filepath.Join(t.TempDir(), "shallow")
	gitIn(t, dir, "clone", "-q", "--depth", "1", "file://"+dir, shallow)
	_, err = Open(ctx, shallow, "HEAD~1")
	if !errors.As(err, &unknown) || !unknown.Shallow {
		t.Fatalf("shallow clone: %v", err)
	}
	for _, want := range []string{"git fetch --unshallow", "fetch-depth: 0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not say %q", err, want)
		}
	}
}

func TestOpenResolvesEveryRevisionSyntaxGitDoes(t *testing.T) {
	dir := fixture(t)
	want := gitIn(t, dir, "rev-parse", "HEAD~1")
	for _, rev := range []string{"v1", "HEAD~1", "HEAD^", "main~1", want[:8], "main@{1}"} {
		tree, err := Open(context.Background(), dir, rev)
		if err != nil {
			t.Errorf("Open(%q): %v", rev, err)
			continue
		}
		if tree.Commit != want {
			t.Errorf("Open(%q).Commit = %s, want %s", rev, tree.Commit, want)
		}
		tree.Close()
	}
}
