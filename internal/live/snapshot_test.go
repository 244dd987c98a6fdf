package live

import (
	"encoding/base64"
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
	o := yaml.MustParse(plantedSecret)
	if err := MaskSecrets([]*yaml.RNode{o}, []byte("salt")); err != nil {
		t.Fatal(err)
	}
	out, err := EncodeSnapshot("test", []*yaml.RNode{o})
	if err != nil {
		t.Fatal(err)
	}
	for _, planted := range []string{"super-secret-planted", "c3VwZXItc2VjcmV0LXBsYW50ZWQ=", "planted-token-value", base64.StdEncoding.EncodeToString([]byte("planted-token-value"))} {
		if strings.Contains(string(out), planted) {
			t.Errorf("snapshot contains %q:\n%s", planted, out)
		}
	}
	if !strings.Contains(string(out), SaltAnnotation) {
		t.Error("snapshot does not record its salt")
	}
}

func TestMatchSecretDigestsComparesMaskedValues(t *testing.T) {
	live := yaml.MustParse(plantedSecret)
	if err := MaskSecrets([]*yaml.RNode{live}, NewSalt()); err != nil {
		t.Fatal(err)
	}
	same := yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials-abc\ndata:\n  password: c3VwZXItc2VjcmV0LXBsYW50ZWQ=\nstringData:\n  token: planted-token-value\n")
	changed := yaml.MustParse("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials-abc\nstringData:\n  password: rotated\n  token: planted-token-value\n")
	if err := MatchSecretDigests([]*yaml.RNode{same, changed}, []*yaml.RNode{live}); err != nil {
		t.Fatal(err)
	}
	ld, _ := secretValues(live)
	sd, _ := secretValues(same)
	cd, _ := secretValues(changed)
	if ld["password"] != sd["password"] || ld["token"] != sd["token"] {
		t.Error("equal values do not give equal digests")
	}
	if ld["password"] == cd["password"] {
		t.Error("a changed value gives the same digest")
	}
	if _, ok := live.GetAnnotations()[SaltAnnotation]; ok {
		t.Error("salt annotation left on the live object, where it would read as drift")
	}
	if _, ok := same.GetAnnotations()[SaltAnnotation]; ok {
		t.Error("salt annotation added to the desired object")
	}
}

func TestReadObjects(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "c.json"), []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}`), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o644)
	objs, err := ReadObjects(0, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range objs {
		names = append(names, o.GetName())
	}
	if strings.Join(names, ",") != "a,b,c" {
		t.Fatalf("names = %v", names)
	}
	os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("metadata:\n  name: x\n"), 0o644)
	if _, err := ReadObjects(0, filepath.Join(dir, "bad.yaml")); err == nil || !strings.Contains(err.Error(), "bad.yaml: document 1 has no apiVersion/kind") {
		t.Fatalf("err = %v", err)
	}
}
