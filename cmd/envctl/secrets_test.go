package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/envctl/envctl/internal/cli"
	"github.com/envctl/envctl/internal/secrets"
)

// exampleCopy copies what the example repository renders from into a
// temporary directory.
func exampleCopy(t *testing.T, root string) string {
	t.Helper()
	dst := t.TempDir()
	for _, name := range []string{"base", "components", "environments", "crds", "schemas", "policies", "envctl.yaml", ".sops.yaml"} {
		src := filepath.Join(root, name)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dst, rel), 0o755)
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// sopsFilesUnder lists the SOPS files under dir.
func sopsFilesUnder(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(p); err == nil && secrets.IsEncrypted(p, b) {
				out = append(out, p)
			}
		}
		return nil
	})
	return out
}

// decryptAll replaces every SOPS file under dir with its plaintext.
func decryptAll(t *testing.T, dir string) {
	t.Helper()
	k, err := secrets.LoadKeys()
	if err != nil {
		t.Fatal(err)
	}
	files := sopsFilesUnder(t, dir)
	if len(files) < 4 {
		t.Fatalf("want the example's staging and prod secrets encrypted, found %d SOPS files", len(files))
	}
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f, err := secrets.Parse(p, b)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := f.Decrypt(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, plain, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReencryptingTheSourcesChangesNoRenderedByte: rotating every
// source's data key (as sops rotate or updatekeys would) leaves the
// rendered environments, and so every Secret name and every workload that
// uses one, byte for byte as they were.
func TestReencryptingTheSourcesChangesNoRenderedByte(t *testing.T) {
	root, _ := filepath.Abs("../..")
	repo := exampleCopy(t, root)
	before := map[string][]byte{}
	for _, p := range sopsFilesUnder(t, repo) {
		before[p], _ = os.ReadFile(p)
	}
	var errOut bytes.Buffer
	if code := cli.Run([]string{"--repo", repo, "secrets", "rotate", "staging", "prod"}, cli.IOStreams{In: bytes.NewReader(nil), Out: &errOut, ErrOut: &errOut}); code != 0 {
		t.Fatalf("secrets rotate exited %d: %s", code, errOut.String())
	}
	for p, b := range before {
		if now, _ := os.ReadFile(p); bytes.Equal(now, b) {
			t.Errorf("%s was not re-encrypted", p)
		}
	}
	for _, env := range exampleEnvs {
		got := buildInProcess(t, "build", env, "--repo", repo, "--no-cache")
		want, err := os.ReadFile(filepath.Join("testdata", "golden", env+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s renders differently after its sources were re-encrypted", env)
		}
	}
}
