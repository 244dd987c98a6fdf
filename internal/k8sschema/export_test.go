package k8sschema

import (
	"errors"
	"github.com/envctl/envctl/internal/testtools"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/k8sschema/translate"
)

func TestKubeconformFilename(t *testing.T) {
	for _, c := range []struct{ apiVersion, kind, want string }{
		{"apps/v1", "Deployment", "deployment-apps-v1.json"},
		{"v1", "ConfigMap", "configmap-v1.json"},
		{"networking.k8s.io/v1", "Ingress", "ingress-networking-v1.json"},
		{"autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscaler-autoscaling-v2.json"},
		{"rbac.authorization.k8s.io/v1", "ClusterRole", "clusterrole-rbac-v1.json"},
	} {
		if got := KubeconformFilename(c.apiVersion, c.kind); got != c.want {
			t.Errorf("KubeconformFilename(%q, %q) = %q, want %q", c.apiVersion, c.kind, got, c.want)
		}
	}
}

// The exported files are self-contained and judge as the Set does.
func TestExportKubeconform(t *testing.T) {
	objs := readYAML(t, "testdata/valid.yaml")
	for _, strict := range []bool{false, true} {
		dir := t.TempDir()
		if err := ExportKubeconform(dir, "1.34", strict); err != nil {
			t.Fatal(err)
		}
		s, _ := Load("1.34", strict)
		files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		if len(files) != len(s.Kinds()) {
			t.Errorf("%d files for %d kinds", len(files), len(s.Kinds()))
		}
		compile := func(apiVersion, kind string) *jsonschema.Schema {
			c := jsonschema.NewCompiler()
			c.AssertFormat = true
			for name, f := range translate.Formats {
				c.Formats[name] = f
			}
			file := filepath.Join(dir, KubeconformFilename(apiVersion, kind))
			c.LoadURL = func(url string) (io.ReadCloser, error) {
				if url != "file://"+file {
					return nil, errors.New("the exported schema refers to " + url)
				}
				return os.Open(file)
			}
			sch, err := c.Compile(file)
			if err != nil {
				t.Fatal(err)
			}
			return sch
		}
		for _, obj := range objs {
			sch := compile(obj["apiVersion"].(string), obj["kind"].(string))
			if err := sch.Validate(obj); err != nil {
				t.Errorf("strict=%v %s: %v", strict, objectName(obj), err)
			}
		}
		bad := validObject(t, "Deployment")
		set(bad, "/spec/replica", 1)
		err := compile("apps/v1", "Deployment").Validate(bad)
		vs := Violations(err)
		if strict && (len(vs) != 1 || vs[0].Path != "/spec/replica") {
			t.Errorf("strict: got %v", vs)
		}
		if !strict && err != nil {
			t.Errorf("not strict: %v", err)
		}
	}
}

// With kubeconform on PATH (GOBIN=/tmp/kc-bin go install
// github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0), it agrees with
// envctl on the test objects.
func TestKubeconformAgrees(t *testing.T) {
	kc := testtools.Kubeconform(t)
	dir := t.TempDir()
	if err := ExportKubeconform(dir, "1.34", true); err != nil {
		t.Fatal(err)
	}
	loc := filepath.Join(dir, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	run := func(yaml string) (string, error) {
		f := filepath.Join(t.TempDir(), "in.yaml")
		if err := os.WriteFile(f, []byte(yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(kc, "-strict", "-summary", "-schema-location", loc, f).CombinedOutput()
		return string(out), err
	}
	data, _ := os.ReadFile("testdata/valid.yaml")
	if out, err := run(string(data)); err != nil {
		t.Errorf("kubeconform rejects valid objects: %v\n%s", err, out)
	}
	bad := strings.Replace(string(data), "  replicas: 3\n", "  replica: 3\n", 1)
	if out, err := run(bad); err == nil || !strings.Contains(out, "replica") {
		t.Errorf("kubeconform accepts spec.replica: %v\n%s", err, out)
	}
}
