package manifest

import (
	"testing"

	yaml3 "go.yaml.in/yaml/v3"
)

func TestGeneratedName(t *testing.T) {
	for name, want := range map[string]bool{
		"app-config":            true,
		"app-config-5f7k2m9h8t": true,
		"app-config-v2":         false,
		"app-config-5f7k2m9h8a": false, // 'a' is not in kustomize's hash alphabet
		"app":                   false,
		"app-config5f7k2m9h8tt": false,
	} {
		if got := GeneratedName(name, "app-config"); got != want {
			t.Errorf("GeneratedName(%q, app-config) = %v, want %v", name, got, want)
		}
	}
}

func TestRelPathNamesRepositoryFilesAsAUserDoes(t *testing.T) {
	for _, tc := range []struct{ root, p, want string }{
		{"/r", "/r/environments/prod/kustomization.yaml", "environments/prod/kustomization.yaml"},
		{"/r", "/elsewhere/kustomization.yaml", "/elsewhere/kustomization.yaml"},
		{"/r", "/r/..data/x.yaml", "..data/x.yaml"},
	} {
		if got := RelPath(tc.root, tc.p); got != tc.want {
			t.Errorf("RelPath(%q, %q) = %q, want %q", tc.root, tc.p, got, tc.want)
		}
	}
}

func TestMapValueAndParse(t *testing.T) {
	var doc yaml3.Node
	if err := yaml3.Unmarshal([]byte("a: 1\nb: {c: 2}\n"), &doc); err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	if v := MapValue(m, "a"); v == nil || v.Value != "1" {
		t.Errorf("MapValue(a) = %v", v)
	}
	if MapValue(m, "z") != nil || MapValue(MapValue(m, "a"), "x") != nil || MapValue(nil, "a") != nil {
		t.Error("MapValue of a missing key or a non-mapping is not nil")
	}
	objs, err := Parse([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: b}\n"))
	if err != nil || len(objs) != 2 || objs[1].GetKind() != "Secret" {
		t.Fatalf("Parse = %d objects, %v", len(objs), err)
	}
	if _, ok := objs[0].GetAnnotations()["config.kubernetes.io/index"]; ok {
		t.Error("Parse left kio's reader annotations on the objects")
	}
}
