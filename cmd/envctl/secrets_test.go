package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"

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

// TestPlantedSecretInSOPSFilesNeverLeaks plants a value in SOPS-encrypted
// sources (an env file, a Secret manifest, a binary file source) and greps
// every output of every command, every file written and the render cache
// for it: the rendered Secrets hold it by design (build's stdout, -o
// files); nothing else may, and no render with decrypted inputs is cached.
func TestPlantedSecretInSOPSFilesNeverLeaks(t *testing.T) {
	t.Setenv("ENVCTL_INPROCESS", "1")
	k, err := secrets.LoadKeys()
	if err != nil || k.Len() == 0 {
		t.Fatalf("no example keys: %v", err)
	}
	ids, err := age.ParseIdentities(strings.NewReader(os.Getenv("SOPS_AGE_KEY")))
	if err != nil {
		t.Fatal(err)
	}
	rcp := ids[0].(*age.X25519Identity).Recipient().String()
	root := t.TempDir()
	files := map[string]string{
		"envctl.yaml":                          "apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n  - {name: prod, path: environments/prod, namespace: app}\ncontracts:\n  - secret: db\n    schema: schemas/db.schema.json\n",
		"schemas/db.schema.json":               `{"type": "object", "properties": {"TOKEN": {"minLength": 64}}}`,
		"environments/prod/kustomization.yaml": "namespace: app\nresources: [secret.yaml]\nsecretGenerator:\n- name: db\n  envs: [db.env]\n  files: [token.bin]\n",
		"environments/prod/db.env":             "TOKEN=" + planted + "\n",
		"environments/prod/token.bin":          planted,
		"environments/prod/secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata: {name: manual}\nstringData:\n  a: " + planted + "\n",
		"live.yaml":                            "apiVersion: v1\nkind: Secret\nmetadata: {name: manual, namespace: app}\nstringData: {a: old}\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		b := []byte(content)
		if strings.HasPrefix(name, "environments/prod/") && !strings.HasSuffix(name, "kustomization.yaml") {
			if b, err = secrets.Encrypt(p, b, secrets.EncryptOptions{Recipients: []string{rcp}}); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache := filepath.Join(t.TempDir(), "cache")
	out := filepath.Join(t.TempDir(), "out")
	run := runIn(root)
	check := func(what string, data []byte) { t.Helper(); checkNoPlanted(t, what, data) }
	cmds := [][]string{
		{"build", "prod", "--cache-dir", cache},
		{"build", "prod", "--cache-dir", cache},
		{"build", "--all", "-o", out, "--cache-dir", cache},
		{"build", "prod", "--no-decrypt", "--no-cache"},
	}
	for _, format := range []string{"text", "json", "junit", "sarif"} {
		cmds = append(cmds, []string{"validate", "--all", "-o", format, "--cache-dir", cache})
	}
	for _, format := range []string{"text", "json", "markdown", "junit"} {
		cmds = append(cmds, []string{"diff", "prod", "--live", filepath.Join(root, "live.yaml"), "-o", format, "--cache-dir", cache})
	}
	for i, c := range cmds {
		stdout, stderr, code := run(c...)
		what := fmt.Sprintf("envctl %s (exit %d)", strings.Join(c, " "), code)
		if i == 0 {
			if code != 0 || !bytes.Contains(stdout, []byte(base64.StdEncoding.EncodeToString([]byte(planted)))) {
				t.Fatalf("%s did not decrypt: %s", what, stderr)
			}
		}
		if c[0] == "build" && len(c) > 1 && c[1] == "prod" {
			stdout = withoutSecretValues(t, what, stdout)
		}
		check(what+": stdout", stdout)
		check(what+": stderr", stderr)
	}
	// The managing commands: check, set (the value on stdin), edit (an
	// editor that adds a key, one that fails after writing the value):
	// none prints a value, and edit's temporary file is gone after each.
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("VISUAL", "")
	dbEnv := filepath.Join(root, "environments/prod/db.env")
	editors := map[string]string{
		"add.sh":  "#!/bin/sh\necho 'ADDED=" + planted + "-edit' >> \"$1\"\n",
		"fail.sh": "#!/bin/sh\necho 'TOKEN=" + planted + "-fail' > \"$1\"\nexit 1\n",
	}
	for name, body := range editors {
		os.WriteFile(filepath.Join(tmp, "..", name), []byte(body), 0o755)
	}
	manage := []struct {
		args  []string
		stdin string
		env   map[string]string
		code  int
	}{
		// No .sops.yaml: findings (whom the files are for), exit 1.
		{args: []string{"secrets", "check", "--all"}, code: 1},
		{args: []string{"secrets", "check", "--all", "-o", "json"}, code: 1},
		{args: []string{"secrets", "set", "prod", "db", "TOKEN"}, stdin: planted + "-set\n"},
		{args: []string{"secrets", "set", "prod", "db", "TOKEN"}, stdin: planted + "-set\n"},
		{args: []string{"secrets", "set", "prod", "db", "TOKEN", planted}, code: 2},
		{args: []string{"secrets", "set", "prod", "db", "TOKEN"}, stdin: planted + "\nsecond line", code: 2},
		{args: []string{"secrets", "edit", dbEnv}, env: map[string]string{"EDITOR": filepath.Join(tmp, "..", "add.sh")}},
		{args: []string{"secrets", "edit", dbEnv}, env: map[string]string{"EDITOR": filepath.Join(tmp, "..", "fail.sh")}, code: 2},
	}
	for _, m := range manage {
		for k, v := range m.env {
			t.Setenv(k, v)
		}
		var o, e bytes.Buffer
		code := cli.Run(append(m.args, "--repo", root), cli.IOStreams{In: strings.NewReader(m.stdin), Out: &o, ErrOut: &e})
		what := fmt.Sprintf("envctl %s (exit %d)", strings.Join(m.args[:min(len(m.args), 5)], " "), code)
		if code != m.code {
			t.Errorf("%s, want exit %d: %s", what, m.code, e.String())
		}
		check(what+": stdout", o.Bytes())
		check(what+": stderr", e.Bytes())
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("%s left %d temporary files", what, len(left))
		}
	}
	if b, _ := os.ReadFile(dbEnv); !bytes.Contains(b, []byte("ADDED=ENC[")) {
		t.Errorf("the edit did not add its key:\n%s", b)
	}
	if stdout, stderr, code := run("build", "prod", "--no-cache"); code != 0 || !bytes.Contains(stdout, []byte(base64.StdEncoding.EncodeToString([]byte(planted+"-set")))) {
		t.Errorf("after set and edit, build: exit %d: %s", code, stderr)
	}

	// A tampered source: the error names the file, not the value.
	p := filepath.Join(root, "environments/prod/db.env")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte("TOKEN=ENC[AES256_GCM,data:"), []byte("TOKEN=ENC[AES256_GCM,data:AAAA"), 1), 0o644)
	stdout, stderr, code := run("build", "prod", "--no-cache")
	if code != 2 || len(stdout) != 0 || !bytes.Contains(stderr, []byte("environments/prod/db.env")) {
		t.Errorf("tampered: exit %d, stdout %d bytes, %s", code, len(stdout), stderr)
	}
	check("tampered: stderr", stderr)
	// No cache entry at all (renders with decrypted inputs are not
	// stored), and no plaintext in any file but -o's manifests.
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if strings.HasSuffix(p, ".entry") {
				t.Errorf("a render with decrypted inputs was cached: %s", p)
			}
			b, _ := os.ReadFile(p)
			check(p, b)
		}
		return nil
	})
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			check(p, withoutSecretValues(t, p, b))
		}
		return nil
	})
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			check(p, b)
		}
		return nil
	})
}
