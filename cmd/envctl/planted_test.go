package main

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml3 "go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/internal/cli"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/testcluster"
)

// planted is the Secret value the test plants in every way a repository
// can hold one.
const planted = "S3cr3t-PLANTED"

// plantedForms are the spellings of planted that a leak would take: as
// text, base64, hex, and the decimal bytes Go's %v prints for a []byte.
// runIn returns a runner of envctl, in process, on the repository root:
// its stdout, stderr and exit code.
func runIn(root string) func(args ...string) (stdout, stderr []byte, code int) {
	return func(args ...string) ([]byte, []byte, int) {
		var o, e bytes.Buffer
		code := cli.Run(append(args, "--repo", root), cli.IOStreams{In: bytes.NewReader(nil), Out: &o, ErrOut: &e})
		return o.Bytes(), e.Bytes(), code
	}
}

// checkNoPlanted fails t if data holds the planted value in any form.
func checkNoPlanted(t *testing.T, what string, data []byte) {
	t.Helper()
	for form, s := range plantedForms() {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%s holds the planted value (%s):\n%s", what, form, data)
		}
	}
}

func plantedForms() map[string]string {
	return map[string]string{
		"plain":   planted,
		"base64":  base64.StdEncoding.EncodeToString([]byte(planted)),
		"hex":     hex.EncodeToString([]byte(planted)),
		"decimal": strings.Trim(fmt.Sprint([]byte(planted)), "[]"),
	}
}

// plantedRepo is a repository whose Secrets hold planted: a literal, an
// env file, a file source, a Secret manifest's stringData and data; and
// broken environments whose errors used to quote it.
var plantedRepo = map[string]string{
	"envctl.yaml": `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
  - {name: dev, path: environments/dev, namespace: app}
  - {name: prod, path: environments/prod, namespace: app}
contracts:
  - secret: db
    schema: schemas/db.schema.json
`,
	"schemas/db.schema.json": `{"type": "object", "properties": {"password": {"minLength": 64, "pattern": "^x"}}}`,
	"environments/dev/kustomization.yaml": `namespace: app
resources: [secret.yaml]
secretGenerator:
- name: db
  literals: ["password=` + planted + `"]
  envs: [db.env]
  files: [token.txt]
`,
	"environments/dev/db.env":    "TOKEN=" + planted + "\n",
	"environments/dev/token.txt": planted,
	"environments/dev/secret.yaml": `apiVersion: v1
kind: Secret
metadata: {name: manual}
stringData:
  a: ` + planted + `
data:
  b: ` + base64.StdEncoding.EncodeToString([]byte(planted)) + `
`,
	"environments/prod/kustomization.yaml": `namespace: app
secretGenerator:
- name: db
  literals: ["password=` + planted + `x"]
`,
	// Errors that quoted the value.
	"broken/literal/kustomization.yaml": "secretGenerator:\n- name: db\n  literals: [\"" + planted + "\"]\n",
	"broken/utf8/kustomization.yaml":    "secretGenerator:\n- name: db\n  envs: [db.env]\n",
	"broken/utf8/db.env":                "PASSWORD=" + planted + "\xff\n",
	// A value pasted alone on a line: kustomize would make it a key.
	"broken/bare/kustomization.yaml": "secretGenerator:\n- name: db\n  envs: [db.env]\n",
	"broken/bare/db.env":             "USER=app\n" + planted + "\n",
	"broken/replacement/kustomization.yaml": `resources: [dep.yaml]
secretGenerator:
- name: db
  literals: ["password=` + planted + `"]
replacements:
- source: {kind: Secret, name: db, fieldPath: data.password.x}
  targets:
  - select: {kind: Deployment}
    fieldPaths: [spec.template.metadata.labels.x]
`,
	"broken/replacement/dep.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {metadata: {labels: {a: b}}}}\n",
	"files/tag.yaml":              "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: !!int " + planted + "\n",
	"files/badkey.yaml":           "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  USER: app\n  \"" + planted + " !\": \"\"\n",
	// What is live: the same Secrets with other values, so diff reports
	// them changed.
	"live.yaml": `apiVersion: v1
kind: Secret
metadata: {name: manual, namespace: app}
stringData: {a: old, b: old}
---
apiVersion: v1
kind: Secret
metadata: {name: db-aaaaaaaaaa, namespace: app}
data: {password: b2xk, TOKEN: b2xk}
`,
}

// TestPlantedSecretNeverLeaks runs every command in every output format,
// and the failures that used to quote a Secret, and greps everything they
// print and every file they write for the planted value in all its forms.
// Rendered manifests (build's stdout and -o files, cache entries) hold the
// Secrets by design, encoded as kustomize encodes them: there the value
// may appear only as a Secret's data or stringData value.
func TestPlantedSecretNeverLeaks(t *testing.T) {
	t.Setenv("ENVCTL_INPROCESS", "1")
	root := writePlantedRepo(t)
	cache := filepath.Join(t.TempDir(), "cache")
	out := filepath.Join(t.TempDir(), "out")
	rendered := filepath.Join(t.TempDir(), "dev.yaml")

	run := runIn(root)
	check := func(what string, data []byte) { t.Helper(); checkNoPlanted(t, what, data) }

	type cmd struct {
		args     []string
		manifest bool // stdout is rendered manifests
	}
	cmds := []cmd{
		{[]string{"build", "dev", "--cache-dir", cache}, true},
		{[]string{"build", "dev", "--cache-dir", cache}, true}, // from the cache
		{[]string{"build", "--all", "-o", out, "--cache-dir", cache}, false},
		{[]string{"envs", "-o", "json"}, false},
		{[]string{"build", filepath.Join(root, "broken", "literal"), "--no-cache"}, false},
		{[]string{"build", filepath.Join(root, "broken", "utf8"), "--no-cache"}, false},
		{[]string{"build", filepath.Join(root, "broken", "replacement"), "--no-cache"}, false},
		{[]string{"build", filepath.Join(root, "broken", "bare"), "--no-cache"}, false},
	}
	for _, format := range []string{"text", "json", "junit", "sarif", "markdown"} {
		cmds = append(cmds,
			cmd{args: []string{"validate", "--all", "-o", format, "--cache-dir", cache}},
			cmd{args: []string{"validate", "-f", rendered, "--env", "dev", "-o", format}},
			cmd{args: []string{"validate", "-f", filepath.Join(root, "files"), "-o", format}},
			cmd{args: []string{"validate", filepath.Join(root, "broken", "literal"), "-o", format, "--no-cache"}},
			cmd{args: []string{"validate", filepath.Join(root, "broken", "bare"), "-o", format, "--no-cache"}},
		)
	}
	for _, format := range []string{"text", "json", "markdown", "junit"} {
		cmds = append(cmds, cmd{args: []string{"diff", "dev", "--live", filepath.Join(root, "live.yaml"), "-o", format, "--cache-dir", cache}})
	}
	for i, c := range cmds {
		stdout, stderr, code := run(c.args...)
		what := fmt.Sprintf("envctl %s (exit %d)", strings.Join(c.args, " "), code)
		if i == 0 {
			if code != 0 {
				t.Fatalf("%s: %s", what, stderr)
			}
			if err := os.WriteFile(rendered, stdout, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if c.manifest {
			stdout = withoutSecretValues(t, what, stdout)
		}
		check(what+": stdout", stdout)
		check(what+": stderr", stderr)
	}
	// The cases that used to leak still fail, for the right reason.
	if _, stderr, code := run("build", filepath.Join(root, "broken", "literal"), "--no-cache"); code != 2 || !bytes.Contains(stderr, []byte(`literals[0]: not KEY=VALUE`)) {
		t.Errorf("broken literal: exit %d, %s", code, stderr)
	}
	if stdout, _, _ := run("validate", "-f", filepath.Join(root, "files", "badkey.yaml")); !bytes.Contains(stdout, []byte("key 2 is not a valid Secret key")) {
		t.Errorf("bad key: %s", stdout)
	}

	// Every file written: -o outputs and cache entries (manifests), and
	// the cache's other files.
	for _, dir := range []string{out, cache} {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			switch {
			case strings.HasSuffix(p, ".entry"):
				// HMAC line, header line, then the render.
				parts := bytes.SplitN(b, []byte("\n"), 3)
				check(p+" (header)", bytes.Join(parts[:2], []byte("\n")))
				b = withoutSecretValues(t, p, parts[2])
			case strings.HasSuffix(p, ".yaml"):
				b = withoutSecretValues(t, p, b)
			}
			check(p, b)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// writePlantedRepo writes plantedRepo to a temporary directory.
func writePlantedRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range plantedRepo {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestPlantedSecretNeverLeaksFromASnapshot applies the planted repository's
// dev environment to a real API server, takes `envctl snapshot dev -o
// FILE` (scrypt digests, then HMAC under ENVCTL_SNAPSHOT_KEY), and greps
// the file for the planted value in every form, and for digests anyone
// could check without the KDF or the key (plain SHA-256, SHA-1, MD5 of
// the value). Every Secret value in the file must be a digest of envctl's
// current schemes; diff --live against it leaks nothing either.
func TestPlantedSecretNeverLeaksFromASnapshot(t *testing.T) {
	t.Setenv("ENVCTL_INPROCESS", "1")
	root := writePlantedRepo(t)
	c := testcluster.Start(t)
	run := func(args ...string) (stdout, stderr []byte, code int) {
		var o, e bytes.Buffer
		args = append(args, "--repo", root, "--no-cache")
		if args[0] != "build" {
			args = append(args, "--kubeconfig", c.Kubeconfig, "--context", testcluster.UserAdmin)
		}
		code = cli.Run(args, cli.IOStreams{In: bytes.NewReader(nil), Out: &o, ErrOut: &e})
		return o.Bytes(), e.Bytes(), code
	}
	rendered, stderr, code := run("build", "dev")
	if code != 0 {
		t.Fatalf("build dev: exit %d: %s", code, stderr)
	}
	c.Kubectl(t, "create", "namespace", "app")
	c.KubectlInput(t, string(rendered), "apply", "-f", "-")

	forms := plantedForms()
	for _, h := range []func(string) []byte{
		func(s string) []byte { b := sha256.Sum256([]byte(s)); return b[:] },
		func(s string) []byte { b := sha1.Sum([]byte(s)); return b[:] },
		func(s string) []byte { b := md5.Sum([]byte(s)); return b[:] },
	} {
		for i, v := range []string{planted, planted + "x"} {
			sum := h(v)
			forms[fmt.Sprintf("digest %d hex (%x)", i, sum[:2])] = hex.EncodeToString(sum)
			forms[fmt.Sprintf("digest %d base64 (%x)", i, sum[:2])] = base64.RawStdEncoding.EncodeToString(sum)
		}
	}
	for _, key := range []string{"", "a-key-kept-outside-the-file-0123"} {
		t.Setenv("ENVCTL_SNAPSHOT_KEY", key)
		file := filepath.Join(t.TempDir(), "dev-live.yaml")
		stdout, stderr, code := run("snapshot", "dev", "-o", file)
		if code != 0 {
			t.Fatalf("snapshot dev: exit %d: %s", code, stderr)
		}
		snap, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for what, data := range map[string][]byte{"snapshot file": snap, "snapshot stdout": stdout, "snapshot stderr": stderr} {
			for form, s := range forms {
				if bytes.Contains(data, []byte(s)) {
					t.Errorf("key %q: %s holds the planted value (%s)", key, what, form)
				}
			}
		}
		sf, err := live.ParseSnapshot(file, snap)
		if err != nil {
			t.Fatal(err)
		}
		secrets := 0
		for _, o := range sf.Objects {
			if o.GetKind() != "Secret" {
				continue
			}
			secrets++
			for k, v := range o.GetDataMap() {
				raw, _ := base64.StdEncoding.DecodeString(v)
				if !strings.HasPrefix(string(raw), "envctl-scrypt$ln=15,r=8,p=1$") && !strings.HasPrefix(string(raw), "envctl-hmac$key=") {
					t.Errorf("key %q: Secret %s data.%s is not a digest of a current scheme: %.20q", key, o.GetName(), k, raw)
				}
			}
		}
		if secrets < 2 {
			t.Errorf("key %q: the snapshot holds %d Secrets, want the planted ones", key, secrets)
		}
		for _, format := range []string{"text", "json", "markdown", "junit"} {
			stdout, stderr, code := run("diff", "dev", "--live", file, "-o", format)
			if code != 0 {
				t.Errorf("key %q: diff dev --live (%s): exit %d, want 0 (in sync): %s%s", key, format, code, stdout, stderr)
			}
			for form, s := range forms {
				if bytes.Contains(stdout, []byte(s)) || bytes.Contains(stderr, []byte(s)) {
					t.Errorf("key %q: diff --live -o %s holds the planted value (%s)", key, format, form)
				}
			}
		}
	}
}

// withoutSecretValues returns a rendered stream with the values of every
// Secret's data and stringData removed (their keys kept), after checking
// that it parses.
func withoutSecretValues(t *testing.T, what string, stream []byte) []byte {
	t.Helper()
	dec := yaml3.NewDecoder(bytes.NewReader(stream))
	var out bytes.Buffer
	enc := yaml3.NewEncoder(&out)
	for {
		var doc yaml3.Node
		if err := dec.Decode(&doc); err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("%s: not YAML: %v", what, err)
			}
			break
		}
		m := doc.Content[0]
		kind := ""
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == "kind" {
				kind = m.Content[i+1].Value
			}
		}
		if kind == "Secret" {
			for i := 0; i+1 < len(m.Content); i += 2 {
				if k := m.Content[i].Value; k == "data" || k == "stringData" {
					for j := 1; j < len(m.Content[i+1].Content); j += 2 {
						m.Content[i+1].Content[j].Value = "(removed)"
					}
				}
			}
		}
		if err := enc.Encode(&doc); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}
