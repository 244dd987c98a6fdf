package overlay

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func TestOriginsMapRenderedObjectsToTheirFiles(t *testing.T) {
	// validate's example repository: its golden reports show these
	// origins, so the two tests agree on one tree.
	root, _ := filepath.Abs("../validate/testdata/repo")
	fsys := filesys.MakeFsOnDisk()
	env := filepath.Join(root, "environments/prod")
	before, err := Render(context.Background(), fsys, env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	origins, err := Origins(context.Background(), fsys, root, env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	after, err := Render(context.Background(), fsys, env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if string(before.YAML) != string(after.YAML) || strings.Contains(string(after.YAML), originAnnotation) {
		t.Error("mapping origins changed what the environment renders")
	}
	want := map[string]string{
		"Deployment api":        "base/deployment.yaml:1",
		"Deployment singleton":  "base/singleton.yaml:1",
		"StatefulSet cache":     "environments/prod/extras.yaml:10",
		"Probe api":             "environments/prod/extras.yaml:1",
		"Widget gadget":         "base/widget.yaml:1",
		"ConfigMap app-config-": "base/kustomization.yaml:6",
		"Secret db-":            "environments/prod/kustomization.yaml:20",
	}
	for o, or := range origins {
		for k, w := range want {
			kind, name, _ := strings.Cut(k, " ")
			if o.Kind == kind && (o.Name == name || strings.HasSuffix(name, "-") && strings.HasPrefix(o.Name, name)) {
				if got := fmt.Sprintf("%s:%d", or.File, or.Line); got != w {
					t.Errorf("%v: %s, want %s", o, got, w)
				}
				delete(want, k)
			}
		}
	}
	for k := range want {
		t.Errorf("%s: no origin", k)
	}
}

func TestWithOriginAnnotationsKeepsTheKustomization(t *testing.T) {
	for in, want := range map[string]string{
		"resources: [a.yaml]\n":                                  "buildMetadata:\n- originAnnotations\n",
		"resources: [a.yaml]\nbuildMetadata: [managedByLabel]\n": "buildMetadata: [managedByLabel, originAnnotations]",
		"buildMetadata: [originAnnotations]\n":                   "buildMetadata: [originAnnotations]\n",
	} {
		out, err := withOriginAnnotations([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), want) || (strings.Contains(in, "a.yaml") && !strings.Contains(string(out), "a.yaml")) {
			t.Errorf("%q became %q", in, out)
		}
	}
}
