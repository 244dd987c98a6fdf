package rbac

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/repo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

var driftSA = ServiceAccount{Namespace: "envctl-system", Name: "envctl-drift"}

// exampleEnvs renders the repository's example environments as envctl
// rbac does: placeholders for SOPS sources, so no key is needed.
func exampleEnvs(t *testing.T) ([]Environment, []*yaml.RNode) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fsys := filesys.MakeFsOnDisk()
	r, err := repo.Open(fsys, root)
	if err != nil {
		t.Fatal(err)
	}
	var envs []Environment
	for _, e := range r.Environments() {
		res, err := overlay.Render(context.Background(), fsys, e.Path, overlay.Options{NoDecrypt: true})
		if err != nil {
			t.Fatal(err)
		}
		objs, err := manifest.Parse(res.YAML)
		if err != nil {
			t.Fatal(err)
		}
		envs = append(envs, Environment{Name: e.Name, Namespace: e.Namespace, KubeVersion: e.KubeVersion, Objects: objs})
	}
	crds, err := ReadCRDs(fsys, root, r.Config.CRDs)
	if err != nil {
		t.Fatal(err)
	}
	return envs, crds
}

// The grants for the example environments, pinned. Regenerate with
// go test ./internal/rbac -update and review the diff: a new resource in
// a golden file is a new permission for the drift job.
func TestGoldenExampleEnvironments(t *testing.T) {
	envs, crds := exampleEnvs(t)
	cases := map[string][]Environment{"all": envs}
	for _, e := range envs {
		cases[e.Name] = []Environment{e}
	}
	for name, in := range cases {
		args := name
		if name == "all" {
			args = "--all"
		}
		t.Run(name, func(t *testing.T) {
			g, err := For(in, Options{ServiceAccount: driftSA, CRDs: crds})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := Write(&b, g, "envctl rbac "+args+" --service-account "+driftSA.String()); err != nil {
				t.Fatal(err)
			}
			checkLeastPrivilege(t, b.Bytes())
			golden := filepath.Join("testdata", "golden", name+".yaml")
			if *update {
				if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/rbac -update)", err)
			}
			if !bytes.Equal(b.Bytes(), want) {
				t.Errorf("%s differs from the output (run go test ./internal/rbac -update and review the diff):\n%s", golden, b.String())
			}
		})
	}
}

// checkLeastPrivilege fails on anything but get and list of named,
// whole resources.
func checkLeastPrivilege(t *testing.T, out []byte) {
	t.Helper()
	objs, err := manifest.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Role" && o.GetKind() != "ClusterRole" {
			continue
		}
		rules, err := o.Pipe(yaml.Lookup("rules"))
		if err != nil || rules == nil {
			t.Fatalf("%s %s has no rules", o.GetKind(), o.GetName())
		}
		els, _ := rules.Elements()
		for _, r := range els {
			for _, field := range []string{"apiGroups", "resources", "verbs"} {
				vals, _ := r.GetSlice(field)
				if len(vals) == 0 {
					t.Errorf("%s %s: a rule without %s", o.GetKind(), o.GetName(), field)
				}
				for _, v := range vals {
					s := v.(string)
					switch {
					case s == "*" || strings.Contains(s, "/"):
						t.Errorf("%s %s: %s holds %q", o.GetKind(), o.GetName(), field, s)
					case field == "verbs" && s != "get" && s != "list":
						t.Errorf("%s %s: verb %q", o.GetKind(), o.GetName(), s)
					}
				}
			}
			if n, _ := r.Pipe(yaml.Lookup("nonResourceURLs")); n != nil {
				t.Errorf("%s %s: nonResourceURLs", o.GetKind(), o.GetName())
			}
		}
	}
}

func parse(t *testing.T, docs string) []*yaml.RNode {
	t.Helper()
	objs, err := manifest.Parse([]byte(docs))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

const widgetCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: %s
  names: {kind: Widget, plural: widgets}
`

func TestFor(t *testing.T) {
	for _, c := range []struct {
		name    string
		envs    []Environment
		opts    Options
		ns      map[string]string // namespace → its resources, joined
		cluster string
		err     string
	}{
		{
			name: "namespaced kinds are granted in every namespace the environment reads, its default one included",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, `
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg, namespace: other}
`)}},
			ns: map[string]string{"app": "configmaps,apps/deployments", "other": "configmaps,apps/deployments"},
		},
		{
			name: "a plural that no rule guesses comes from the API paths",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\n")}},
			ns:   map[string]string{"app": "endpoints"},
		},
		{
			name:    "cluster-scoped kinds make the ClusterRole; the default namespace of an environment with none is left out",
			envs:    []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: x}\n")}},
			cluster: "namespaces,rbac.authorization.k8s.io/clusterroles",
		},
		{
			name:    "a custom resource takes its plural and scope from a CRD in the render",
			envs:    []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, strings.Replace(widgetCRD, "%s", "Cluster", 1)+"---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}},
			cluster: "apiextensions.k8s.io/customresourcedefinitions,example.com/widgets",
		},
		{
			name: "or from the repository's crds:",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}},
			opts: Options{CRDs: parse(t, strings.Replace(widgetCRD, "%s", "Namespaced", 1))},
			ns:   map[string]string{"app": "example.com/widgets"},
		},
		{
			name: "an old apiVersion maps through its group's other versions",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\n")}},
			ns:   map[string]string{"app": "autoscaling/horizontalpodautoscalers"},
		},
		{
			name: "environments sharing a namespace share its Role",
			envs: []Environment{
				{Name: "a", Namespace: "shared", Objects: parse(t, "apiVersion: v1\nkind: Service\nmetadata: {name: s}\n")},
				{Name: "b", Namespace: "shared", Objects: parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")},
			},
			ns: map[string]string{"shared": "configmaps,services"},
		},
		{
			name: "--release-history grants Secrets in the environment's namespace only",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}\n")}},
			opts: Options{ReleaseHistory: true},
			ns:   map[string]string{"app": "configmaps,secrets", "other": "configmaps"},
		},
		{
			name: "a kind nothing defines is an error that says where to add its CRD",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}},
			err:  "dev: example.com/v1 Widget: not a resource of Kubernetes 1.31 to 1.37, and no CustomResourceDefinition in the render or in envctl.yaml's crds: defines it (add its CRD to crds:, or pass --context to ask the cluster)",
		},
		{
			name: "a subresource's body is not a resource",
			envs: []Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: autoscaling/v1\nkind: Scale\nmetadata: {name: w}\n")}},
			err:  "dev: autoscaling/v1 Scale: not a resource",
		},
		{
			name: "an environment without a namespace is an error",
			envs: []Environment{{Name: "dev", Objects: parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")}},
			err:  "dev: no namespace: set the environment's namespace in envctl.yaml, or pass -n",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opts.ServiceAccount = driftSA
			g, err := For(c.envs, c.opts)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err = %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, n := range g.Namespaces {
				got[n.Namespace] = join(n.Resources)
			}
			if len(got) != len(c.ns) {
				t.Errorf("namespaces = %v, want %v", got, c.ns)
			}
			for ns, want := range c.ns {
				if got[ns] != want {
					t.Errorf("namespace %s: %s, want %s", ns, got[ns], want)
				}
			}
			if j := join(g.Cluster); j != c.cluster {
				t.Errorf("cluster: %s, want %s", j, c.cluster)
			}
		})
	}
}

func join(rs []Resource) string {
	var s []string
	for _, r := range rs {
		if r.Group == "" {
			s = append(s, r.Resource)
		} else {
			s = append(s, r.Group+"/"+r.Resource)
		}
	}
	return strings.Join(s, ",")
}

func TestDiscoverMapsOnlyWhatNothingOfflineKnows(t *testing.T) {
	var asked []string
	opts := Options{ServiceAccount: driftSA, Discover: func(e Environment, gvk schema.GroupVersionKind) (Resource, bool, error) {
		asked = append(asked, e.Name+":"+gvk.Kind)
		return Resource{Group: gvk.Group, Resource: "widgets"}, false, nil
	}}
	g, err := For([]Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(asked, ",") != "dev:Widget" {
		t.Errorf("asked the cluster about %v, want only dev:Widget", asked)
	}
	if j := join(g.Cluster); j != "example.com/widgets" {
		t.Errorf("cluster = %s", j)
	}
}

func TestUnknownKindErrorIsTyped(t *testing.T) {
	_, err := For([]Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")}}, Options{ServiceAccount: driftSA})
	var uk *UnknownKindError
	if !errors.As(err, &uk) || uk.Kind != "Widget" {
		t.Fatalf("err = %v, want an UnknownKindError for Widget", err)
	}
}

func TestNoClusterRoleWithoutClusterScopedKinds(t *testing.T) {
	g, err := For([]Environment{{Name: "dev", Namespace: "app", Objects: parse(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")}}, Options{ServiceAccount: driftSA})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, g, "envctl rbac dev"); err != nil {
		t.Fatal(err)
	}
	for _, o := range parse(t, b.String()) {
		if strings.HasPrefix(o.GetKind(), "Cluster") {
			t.Errorf("%s %s written for an environment with no cluster-scoped object", o.GetKind(), o.GetName())
		}
	}
}

func TestParseServiceAccount(t *testing.T) {
	for in, want := range map[string]string{
		"envctl-system/envctl-drift": "",
		"envctl-drift":               "want NAMESPACE/NAME",
		"a/b/c":                      "want NAMESPACE/NAME",
		"/name":                      `namespace ""`,
		"Bad_NS/name":                `namespace "Bad_NS"`,
		"ns/":                        `name ""`,
	} {
		sa, err := ParseServiceAccount(in)
		switch {
		case want == "" && (err != nil || sa.String() != in):
			t.Errorf("ParseServiceAccount(%q) = %v, %v", in, sa, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("ParseServiceAccount(%q): err = %v, want %q", in, err, want)
		}
	}
}
