package live

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

const plantedSecret = `apiVersion: v1
kind: Secret
metadata:
  name: db-credentials-abc
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"v1","kind":"Secret","data":{"password":"` + "c3VwZXItc2VjcmV0LXBsYW50ZWQ=" + `"},"stringData":{"token":"planted-token-value"},"metadata":{"name":"db-credentials-abc"}}'
data:
  password: c3VwZXItc2VjcmV0LXBsYW50ZWQ=
stringData:
  token: planted-token-value
`

func TestMaskSecretsLeavesNoValueBehind(t *testing.T) {
	for _, h := range []Hasher{{}, {Key: []byte("0123456789abcdef-key")}} {
		o := yaml.MustParse(plantedSecret)
		if err := MaskSecrets([]*yaml.RNode{o}, h); err != nil {
			t.Fatal(err)
		}
		out, err := EncodeSnapshot(&SnapshotHeader{Environment: "test"}, []*yaml.RNode{o})
		if err != nil {
			t.Fatal(err)
		}
		var forms []string
		for _, v := range []string{"super-secret-planted", "planted-token-value"} {
			sum := sha256.Sum256([]byte(v))
			forms = append(forms, v, base64.StdEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v)), hex.EncodeToString(sum[:]), base64.RawStdEncoding.EncodeToString(sum[:]))
		}
		for _, planted := range forms {
			if strings.Contains(string(out), planted) {
				t.Errorf("%s: snapshot contains %q:\n%s", h.Scheme(), planted, out)
			}
		}
		if strings.Contains(string(out), SaltAnnotation) {
			t.Errorf("%s: snapshot has a file-wide salt", h.Scheme())
		}
		vals, _ := secretValues(o)
		for k, v := range vals {
			if _, err := parseDigest(v); err != nil {
				t.Errorf("%s: data.%s = %q is not a digest: %v", h.Scheme(), k, v, err)
			}
		}
	}
}

func TestEqualValuesGetDifferentDigests(t *testing.T) {
	o := yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: same, b: same}\n")
	if err := MaskSecrets([]*yaml.RNode{o}, Hasher{}); err != nil {
		t.Fatal(err)
	}
	vals, _ := secretValues(o)
	if vals["a"] == vals["b"] {
		t.Error("two equal values have the same digest: the file tells which values are equal")
	}
}

func secretFrom(t *testing.T, name string, kv ...string) *yaml.RNode {
	t.Helper()
	o := yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: shop}\n")
	vals := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		vals[kv[i]] = kv[i+1]
	}
	if err := setSecretData(o, vals); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMatchSecretDigestsComparesMaskedValues(t *testing.T) {
	live := yaml.MustParse(plantedSecret)
	if err := MaskSecrets([]*yaml.RNode{live}, Hasher{}); err != nil {
		t.Fatal(err)
	}
	same := secretFrom(t, "db-credentials-abc", "password", "super-secret-planted", "token", "planted-token-value")
	changed := secretFrom(t, "db-credentials-abc", "password", "rotated", "token", "planted-token-value")
	if err := MatchSecretDigests([]*yaml.RNode{same, changed}, []*yaml.RNode{live}, "shop", Hasher{}); err != nil {
		t.Fatal(err)
	}
	ld, _ := secretValues(live)
	sd, _ := secretValues(same)
	cd, _ := secretValues(changed)
	if ld["password"] != sd["password"] || ld["token"] != sd["token"] {
		t.Error("equal values do not give equal digests")
	}
	if ld["password"] == cd["password"] || cd["password"] != unmatched {
		t.Error("a changed value matches the snapshot's digest")
	}
}

// Two snapshot files, each with its own salts: an unchanged Secret in
// either reads as unchanged (before, only the first file's salt was used).
func TestSecretsOfTwoSnapshotFilesKeepTheirOwnSalts(t *testing.T) {
	dir := t.TempDir()
	for i, name := range []string{"a", "b"} {
		o := secretFrom(t, "creds-"+name, "password", "value-"+name)
		if err := MaskSecrets([]*yaml.RNode{o}, Hasher{}); err != nil {
			t.Fatal(err)
		}
		out, err := EncodeSnapshot(&SnapshotHeader{Environment: "test"}, []*yaml.RNode{o})
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name+".yaml"), out, 0o644)
		_ = i
	}
	files, err := ReadSnapshots(0, filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := SelectSnapshot(files, "test", SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	desired := []*yaml.RNode{secretFrom(t, "creds-a", "password", "value-a"), secretFrom(t, "creds-b", "password", "value-b")}
	st, err := ReadFor(context.Background(), s, Target{Namespace: "shop"}, desired)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range st.Desired {
		dv, _ := secretValues(d)
		lv, _ := secretValues(st.Live[i])
		if d.GetName() != st.Live[i].GetName() || dv["password"] != lv["password"] {
			t.Errorf("%s: unchanged value reads as changed", d.GetName())
		}
	}
}

func TestHMACDigestsNeedTheirKey(t *testing.T) {
	key := Hasher{Key: []byte("the-right-key-0123456789")}
	o := secretFrom(t, "s", "k", "v")
	if err := MaskSecrets([]*yaml.RNode{o}, key); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]Hasher{"no key": {}, "another key": {Key: []byte("another-key-0123456789")}} {
		err := MatchSecretDigests([]*yaml.RNode{secretFrom(t, "s", "k", "v")}, []*yaml.RNode{o.Copy()}, "shop", h)
		var ke *KeyError
		if !errors.As(err, &ke) {
			t.Errorf("%s: err = %v, want a KeyError", name, err)
		}
	}
	d := secretFrom(t, "s", "k", "v")
	if err := MatchSecretDigests([]*yaml.RNode{d}, []*yaml.RNode{o}, "shop", key); err != nil {
		t.Fatal(err)
	}
	dv, _ := secretValues(d)
	lv, _ := secretValues(o)
	if dv["k"] != lv["k"] {
		t.Error("the right key does not match")
	}
	if err := (Hasher{Key: []byte("short")}).CheckKey(); err == nil {
		t.Error("a 5-byte key is accepted")
	}
}

// A generated Secret renamed since the snapshot is compared with its
// previous generation: its unchanged values still match.
func TestMatchSecretDigestsFollowsGenerations(t *testing.T) {
	old := secretFrom(t, "db-5f7k2m9h8t", "user", "app", "password", "old")
	if err := MaskSecrets([]*yaml.RNode{old}, Hasher{}); err != nil {
		t.Fatal(err)
	}
	d := secretFrom(t, "db-b2c4d6f8g9", "user", "app", "password", "new")
	if err := MatchSecretDigests([]*yaml.RNode{d}, []*yaml.RNode{old}, "shop", Hasher{}); err != nil {
		t.Fatal(err)
	}
	dv, _ := secretValues(d)
	lv, _ := secretValues(old)
	if dv["user"] != lv["user"] || dv["password"] == lv["password"] {
		t.Errorf("user matched %v, password matched %v; want true, false", dv["user"] == lv["user"], dv["password"] == lv["password"])
	}
}

func TestParseSnapshotRefusesWhatCannotBeASnapshot(t *testing.T) {
	good := func() []byte {
		o := yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\ndata: {k: v}\n")
		b, err := EncodeSnapshot(&SnapshotHeader{Environment: "test"}, []*yaml.RNode{o, o.Copy()})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}()
	legacy := "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {k: " + base64.StdEncoding.EncodeToString([]byte(legacyDigestPrefix+"00")) + "}\n"
	for _, tc := range []struct {
		name, data, err string
	}{
		{"an empty file", "", "empty"},
		{"a file of comments", "# nothing\n---\n", "empty"},
		{"a binary file", "\x1f\x8b\x08\x00binary\x00", "binary data"},
		{"invalid UTF-8", "apiVersion: v1\nkind: \xff\n", "binary data"},
		{"truncated YAML", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"a", "not a valid YAML or JSON stream"},
		{"truncated JSON", `{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"na`, "not a valid YAML or JSON stream"},
		{"a List without items", "apiVersion: v1\nkind: List\n", "kind List without an items list"},
		{"a List whose items are a map", "apiVersion: v1\nkind: List\nitems: {a: b}\n", "kind List without an items list"},
		{"a List item without a kind", "apiVersion: v1\nkind: List\nitems:\n- metadata: {name: a}\n", "List items[0] has no apiVersion/kind"},
		{"an empty List", "apiVersion: v1\nkind: List\nitems: []\n", "holds no object"},
		{"a document without a kind", "metadata: {name: x}\n", "document 1 has no apiVersion/kind"},
		{"a scalar document", "just text\n", "document 1 is not an object"},
		{"two snapshots in one file", string(good) + "---\n" + string(good), "second snapshot header"},
		{"a newer format", "apiVersion: envctl.dev/v9\nkind: Snapshot\nenvironment: x\n---\n", "snapshot format envctl.dev/v9"},
		{"format-1 digests", legacy, "format-1 Secret digests"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSnapshot("snap.yaml", []byte(tc.data))
			if err == nil || !strings.HasPrefix(err.Error(), "snap.yaml: ") || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want snap.yaml: ...%s", err, tc.err)
			}
		})
	}
	t.Run("a file that lost objects", func(t *testing.T) {
		cut := good[:strings.LastIndex(string(good), "---\n")]
		f, err := ParseSnapshot("snap.yaml", cut)
		if err != nil || !strings.Contains(f.Damage, "header counts 2 object(s), the file holds 1") {
			t.Fatalf("err = %v, damage = %q", err, f.Damage)
		}
	})
	t.Run("a file cut inside an object", func(t *testing.T) {
		cut := good[:len(good)-len("  k: v\n")]
		f, err := ParseSnapshot("snap.yaml", cut)
		if err != nil || !strings.Contains(f.Damage, "does not match the header's sha256") {
			t.Fatalf("err = %v, damage = %q", err, f.Damage)
		}
	})
	t.Run("a good file", func(t *testing.T) {
		f, err := ParseSnapshot("snap.yaml", good)
		if err != nil || f.Damage != "" || f.Header == nil || f.Header.Environment != "test" || len(f.Objects) != 2 {
			t.Fatalf("err = %v, file = %+v", err, f)
		}
	})
}

func TestSelectSnapshot(t *testing.T) {
	cm := func(name string) *yaml.RNode {
		return yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: shop}\n")
	}
	file := func(path, env string, named bool, damage string, objs ...*yaml.RNode) *SnapshotFile {
		f := &SnapshotFile{Path: path, Objects: objs, Named: named, Damage: damage}
		if env != "" {
			f.Header = &SnapshotHeader{Environment: env}
		}
		return f
	}
	prod := file("prod.yaml", "prod", true, "", cm("a"))
	staging := file("dir/staging.yaml", "staging", false, "", cm("a"))
	dump := file("dump.yaml", "", true, "", cm("a"))
	cut := file("cut.yaml", "prod", true, "truncated", cm("a"))
	for _, tc := range []struct {
		name  string
		files []*SnapshotFile
		env   string
		opts  SelectOptions
		err   string
		warn  string
	}{
		{"a named file of its environment", []*SnapshotFile{prod}, "prod", SelectOptions{}, "", ""},
		{"a named file of another environment", []*SnapshotFile{prod}, "staging", SelectOptions{}, "prod.yaml: is a snapshot of environment prod, not staging; pass --live-any", ""},
		{"--live-any takes it", []*SnapshotFile{prod}, "staging", SelectOptions{Any: true}, "", "prod.yaml is a snapshot of prod"},
		{"a damaged file", []*SnapshotFile{cut}, "prod", SelectOptions{}, "cut.yaml: truncated; pass --live-any", ""},
		{"--live-any takes a damaged file", []*SnapshotFile{cut}, "prod", SelectOptions{Any: true}, "", "cut.yaml: truncated"},
		{"a file without a header", []*SnapshotFile{dump}, "prod", SelectOptions{}, "dump.yaml: has no envctl snapshot header", ""},
		{"--live-any takes it", []*SnapshotFile{dump}, "prod", SelectOptions{Any: true}, "", "dump.yaml has no snapshot header"},
		{"several environments need headers", []*SnapshotFile{dump}, "prod", SelectOptions{Any: true, Several: true}, "dump.yaml: has no envctl snapshot header, so it names no environment", ""},
		{"a directory's files are taken by header", []*SnapshotFile{staging, prod}, "staging", SelectOptions{Several: true}, "", ""},
		{"an environment without a snapshot", []*SnapshotFile{staging, prod}, "dev", SelectOptions{Several: true}, "no snapshot of environment dev among the --live files (dir/staging.yaml is staging's, prod.yaml is prod's)", ""},
		{"two snapshots of one environment", []*SnapshotFile{prod, file("prod2.yaml", "prod", true, "", cm("a"))}, "prod", SelectOptions{}, "prod2.yaml: v1 ConfigMap shop/a is also in prod.yaml", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, warnings, err := SelectSnapshot(tc.files, tc.env, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Objects) == 0 {
				t.Error("no objects")
			}
			if got := strings.Join(warnings, "\n"); tc.warn == "" && got != "" || !strings.Contains(got, tc.warn) {
				t.Errorf("warnings = %q, want %q", got, tc.warn)
			}
		})
	}
}

func TestASnapshotWithNoObjectOfTheEnvironmentIsAnError(t *testing.T) {
	s := &Snapshot{Files: []string{"other.yaml"}, Objects: []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: elsewhere}\n")}}
	desired := []*yaml.RNode{yaml.MustParse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n")}
	_, err := ReadFor(context.Background(), s, Target{Namespace: "shop"}, desired)
	var nm *NoMatchError
	if !errors.As(err, &nm) || !strings.Contains(err.Error(), "other.yaml: none of its 1 object(s)") {
		t.Fatalf("err = %v", err)
	}
	// A header that names the environment and counts no object is a
	// capture of an empty environment: everything is missing, truly.
	s = &Snapshot{Files: []string{"empty.yaml"}, vouched: true}
	if _, err := ReadFor(context.Background(), s, Target{Namespace: "shop"}, desired); err != nil {
		t.Fatal(err)
	}
}

// A live cluster's Secret never switches to digest comparison, whatever
// it carries: only a Snapshot source sets Result.Digests.
func TestOnlyASnapshotComparesDigests(t *testing.T) {
	res, err := (&Snapshot{Objects: []*yaml.RNode{secretFrom(t, "s", "k", "v")}}).Read(context.Background(), Target{}, Query{Kinds: QueryFor([]*yaml.RNode{secretFrom(t, "s")}, "shop", nil).Kinds, Namespaces: []string{"shop"}})
	if err != nil || res.Digests == nil {
		t.Fatalf("snapshot result: err %v, digests %v", err, res.Digests)
	}
}

func TestReadSnapshotsOfADirectory(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.json"), []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	files, err := ReadSnapshots(0, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if f.Named {
			t.Errorf("%s: found in a directory, marked as named", f.Path)
		}
		for _, o := range f.Objects {
			names = append(names, o.GetName())
		}
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("names = %v", names)
	}
}

// FuzzReadSnapshot: whatever a --live file holds, reading it returns
// objects or an error naming the file; it never panics, and a file it
// accepts with a header is either what the header says or marked damaged.
func FuzzReadSnapshot(f *testing.F) {
	// The example's snapshot, cut to its Secrets and Services (real
	// digests, real objects) so that each run is quick, and its
	// beginning as a truncated file.
	real, err := ReadSnapshots(0, "../../cmd/envctl/testdata/snapshots/staging-live.yaml")
	if err != nil {
		f.Fatal(err)
	}
	var some []*yaml.RNode
	for _, o := range real[0].Objects {
		if o.GetKind() == "Secret" || o.GetKind() == "Service" {
			some = append(some, o)
		}
	}
	small, err := EncodeSnapshot(real[0].Header, some)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add(small[:len(small)*2/3])
	o := yaml.MustParse(plantedSecret)
	if err := MaskSecrets([]*yaml.RNode{o}, Hasher{}); err != nil {
		f.Fatal(err)
	}
	b, _ := EncodeSnapshot(&SnapshotHeader{Environment: "fuzz"}, []*yaml.RNode{o})
	f.Add(b)
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}]}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: []\n"))
	f.Add([]byte("apiVersion: envctl.dev/v1\nkind: Snapshot\nenvironment: x\nobjects: 0\n---\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sf, err := ParseSnapshot("f.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if sf.Header == nil && len(sf.Objects) == 0 {
			t.Fatal("a file without a header or objects was accepted")
		}
		if sf.Header != nil && sf.Damage == "" && sf.Header.Objects != len(sf.Objects) {
			t.Fatalf("header counts %d, file holds %d, not marked damaged", sf.Header.Objects, len(sf.Objects))
		}
		for _, o := range sf.Objects {
			if o.GetKind() == "" || o.GetApiVersion() == "" {
				t.Fatal("an object without apiVersion/kind was accepted")
			}
		}
	})
}

func TestADigestCannotAskForGigabytes(t *testing.T) {
	salt := base64.RawStdEncoding.EncodeToString(make([]byte, 16))
	sum := base64.RawStdEncoding.EncodeToString(make([]byte, 32))
	for params, ok := range map[string]bool{"ln=15,r=8,p=1": true, "ln=17,r=8,p=1": true, "ln=18,r=8,p=1": false, "ln=20,r=32,p=1": false, "ln=15,r=8,p=99": false, "ln=4,r=8,p=1": false} {
		_, err := parseDigest(scryptScheme + "$" + params + "$" + salt + "$" + sum)
		if (err == nil) != ok {
			t.Errorf("%s: err = %v, want accepted %v", params, err, ok)
		}
	}
}
