package repo

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func fsWith(t *testing.T, files map[string]string) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, c := range files {
		if err := fsys.WriteFile(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

const kust = "resources: []\n"

func TestWithoutConfigEveryEnvironmentsDirWithAKustomizationIsAnEnvironment(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/environments/prod/kustomization.yaml": kust,
		"/r/environments/dev/kustomization.yml":   kust,
		"/r/environments/qa/Kustomization":        kust,
		"/r/environments/notes/README.md":         "no kustomization here",
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "dev,prod,qa" {
		t.Fatalf("Names() = %s", got)
	}
}

func TestConfigListsEnvironmentsLaidOutDifferently(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/envctl.yaml": `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
- name: staging
  path: apps/staging
  context: kind-staging
  namespace: shop-staging
- name: production
  path: overlays/production
`,
		"/r/apps/staging/kustomization.yaml":         kust,
		"/r/overlays/production/kustomization.yaml":  kust,
		"/r/environments/ignored/kustomization.yaml": kust,
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := r.Lookup("staging")
	if !ok || e.Path != "/r/apps/staging" || e.Context != "kind-staging" || e.Namespace != "shop-staging" {
		t.Fatalf("staging = %+v", e)
	}
	if got := strings.Join(r.Names(), ","); got != "production,staging" {
		t.Fatalf("Names() = %s (envctl.yaml must replace discovery)", got)
	}
}

func TestBadConfigNamesTheFileLineAndKey(t *testing.T) {
	header := "apiVersion: envctl.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"unknown top-level key", header + "enviroments: []\n", []string{"envctl.yaml:3: enviroments: unknown key (known keys: apiVersion, kind, environments, ignore)"}},
		{"unknown environment key", header + "environments:\n- name: a\n  path: a\n  contxt: x\n", []string{"envctl.yaml:6: contxt: unknown key", "context"}},
		{"duplicate key", header + "environments:\n- name: a\n  name: b\n  path: a\n", []string{"envctl.yaml:5:", `"name" already defined at line 4`}},
		{"duplicate environment name", header + "environments:\n- name: a\n  path: a\n- name: a\n  path: a\n", []string{"envctl.yaml:6", "environments[1].name", `duplicate environment name "a"`}},
		{"missing header", "environments: []\n", []string{"apiVersion", `want "envctl.dev/v1alpha1"`}},
		{"wrong kind", "apiVersion: envctl.dev/v1alpha1\nkind: Configuration\n", []string{"envctl.yaml:2", "kind"}},
		{"broken YAML", header + "environments: [\n", []string{"envctl.yaml:3: did not find expected node content"}},
		{"missing name", header + "environments:\n- path: a\n", []string{"environments[0].name", "is required"}},
		{"missing path", header + "environments:\n- name: a\n", []string{"environments[0].path", "is required"}},
		{"name unusable as a file name", header + "environments:\n- name: a/b\n  path: a\n", []string{"environments[0].name", "not a valid environment name"}},
		{"empty file", "", []string{"envctl.yaml", "empty"}},
		{"two documents", header + "---\n" + header, []string{"more than one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fsWith(t, map[string]string{"/r/envctl.yaml": tt.cfg, "/r/a/kustomization.yaml": kust})
			_, err := Open(fsys, "/r")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigDirectoryProblemsNameTheKey(t *testing.T) {
	cfg := "apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n- name: a\n  path: a\n- name: b\n  path: missing\n"
	fsys := fsWith(t, map[string]string{"/r/envctl.yaml": cfg, "/r/a/kustomization.yaml": kust})
	_, err := Open(fsys, "/r")
	if err == nil || !strings.Contains(err.Error(), "envctl.yaml:6: environments[1].path") || !strings.Contains(err.Error(), `"missing"`) {
		t.Fatalf("err = %v", err)
	}
	fsys = fsWith(t, map[string]string{"/r/envctl.yaml": cfg, "/r/a/kustomization.yaml": kust, "/r/missing/README": "x"})
	_, err = Open(fsys, "/r")
	if err == nil || !strings.Contains(err.Error(), "holds no kustomization") {
		t.Fatalf("err = %v", err)
	}
}

func TestFindRootWalksUpToEnvctlYAML(t *testing.T) {
	fsys := fsWith(t, map[string]string{"/r/envctl.yaml": "x", "/r/a/b/c/file": "x"})
	if got := FindRoot(fsys, "/r/a/b/c"); got != "/r" {
		t.Errorf("FindRoot = %s, want /r", got)
	}
	fsys = fsWith(t, map[string]string{"/q/a/file": "x"})
	if got := FindRoot(fsys, "/q/a"); got != "/q/a" {
		t.Errorf("FindRoot without envctl.yaml = %s, want the start directory", got)
	}
}

func TestResolve(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/environments/dev/kustomization.yaml":  kust,
		"/r/environments/prod/kustomization.yaml": kust,
		"/r/other/overlay/kustomization.yaml":     kust,
		"/r/plain/README":                         "x",
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := r.Resolve(fsys, "/r", "dev"); err != nil || e.Name != "dev" {
		t.Errorf("dev: %+v %v", e, err)
	}
	if e, err := r.Resolve(fsys, "/r", "./other/overlay"); err != nil || e.Name != "overlay" || e.Path != "/r/other/overlay" {
		t.Errorf("path: %+v %v", e, err)
	}
	if e, err := r.Resolve(fsys, "/r/environments", "./prod"); err != nil || e.Name != "prod" {
		t.Errorf("a path to a registered environment is that environment: %+v %v", e, err)
	}
	_, err = r.Resolve(fsys, "/r", "stagin")
	var ue *UnknownEnvironmentError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "known environments: dev, prod") {
		t.Errorf("unknown: %v", err)
	}
	if _, err := r.Resolve(fsys, "/r", "./plain"); err == nil || !strings.Contains(err.Error(), "holds no kustomization") {
		t.Errorf("no kustomization: %v", err)
	}
	if _, err := r.Resolve(fsys, "/r", "./nope"); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestDriftSettingsDecode(t *testing.T) {
	cfg := `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
- name: a
  path: a
  selector: {app.kubernetes.io/part-of: shop}
  ignore:
  - kind: Deployment
    path: /spec/template/metadata/annotations
ignore:
- apiVersion: autoscaling/v2
  name: "api-*"
  path: /spec/minReplicas
`
	c, err := ParseConfig("envctl.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if c.Environments[0].Selector["app.kubernetes.io/part-of"] != "shop" || len(c.Environments[0].Ignore) != 1 || c.Ignore[0].Name != "api-*" {
		t.Fatalf("decoded %+v", c)
	}
}

func TestBadIgnoreRulesNameTheLine(t *testing.T) {
	header := "apiVersion: envctl.dev/v1alpha1\nkind: Config\n"
	for name, tt := range map[string]struct{ cfg, want string }{
		"a path that is not a pointer": {header + "ignore:\n- kind: Deployment\n  path: spec.replicas\n", "envctl.yaml:4: ignore[0].path: \"spec.replicas\" is not a JSON pointer"},
		"a bad glob":                   {header + "ignore:\n- name: \"[a\"\n  path: /x\n", "envctl.yaml:4: ignore[0].name"},
		"a rule that selects all":      {header + "ignore:\n- path: \"\"\n", "selects every field of every object"},
		"an unknown key in a rule":     {header + "ignore:\n- kind: X\n  pointer: /x\n", "envctl.yaml:5: pointer: unknown key (known keys: apiVersion, kind, namespace, name, path)"},
		"a bad rule in an environment": {header + "environments:\n- name: a\n  path: a\n  ignore:\n  - path: x\n", "envctl.yaml:7: environments[0].ignore[0].path"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("envctl.yaml", []byte(tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
