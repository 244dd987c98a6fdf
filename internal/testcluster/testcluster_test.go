package testcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

func TestMain(m *testing.M) { Main(m) }

var (
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	secretsGVR     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
)

// TestVersionMatchesWrapperModule keeps KubeAPIServerVersion (which names the
// cached binary) in step with the version hack/build-kube-apiserver.sh builds.
func TestVersionMatchesWrapperModule(t *testing.T) {
	data, err := os.ReadFile("../../hack/kube-apiserver/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^require k8s\.io/kubernetes (v\S+)$`).FindSubmatch(data)
	if m == nil {
		t.Fatal("hack/kube-apiserver/go.mod has no line `require k8s.io/kubernetes vX.Y.Z`")
	}
	if got := string(m[1]); got != KubeAPIServerVersion {
		t.Errorf("hack/kube-apiserver/go.mod pins k8s.io/kubernetes %s, but KubeAPIServerVersion is %s", got, KubeAPIServerVersion)
	}
	// The staging modules must be replaced with the matching v0.X.Y.
	minor := strings.SplitN(KubeAPIServerVersion, ".", 3)[1]
	for _, r := range regexp.MustCompile(`(?m)^\s*(k8s\.io/\S+) => \S+ (v\S+)$`).FindAllSubmatch(data, -1) {
		if want := "v0." + minor + "." + strings.SplitN(KubeAPIServerVersion, ".", 3)[2]; string(r[2]) != want {
			t.Errorf("replace %s => %s, want %s", r[1], r[2], want)
		}
	}
}

const smokeManifest = `
apiVersion: v1
kind: Namespace
metadata:
  name: %[1]s
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: %[1]s
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %[1]s
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0
        ports:
        - containerPort: 8080
`

const readSecretsRBAC = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: envctl-smoke-read-secrets
rules:
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: envctl-smoke-read-secrets
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: envctl-smoke-read-secrets
subjects:
- apiGroup: rbac.authorization.k8s.io
  kind: User
  name: reader
`

func TestSmoke(t *testing.T) {
	c := Shared(t)
	t.Logf("startup to ready: %s", c.StartupDuration)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// Each context of the kubeconfig authenticates as its user.
	for _, u := range Users {
		got := c.Kubectl(t, "--context="+u, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
		if got != u {
			t.Errorf("kubectl --context=%s auth whoami = %q, want %q", u, got, u)
		}
	}

	const ns = "envctl-smoke"
	out := c.KubectlInput(t, fmt.Sprintf(smokeManifest, ns), "apply", "--server-side", "--field-manager=envctl-test", "-f", "-")
	t.Logf("kubectl apply:\n%s", out)

	admin := dynClient(t, c.RESTConfig(UserAdmin))
	deps, err := admin.Resource(deploymentsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list deployments: %v", err)
	}
	if len(deps.Items) != 1 || deps.Items[0].GetName() != "web" {
		t.Fatalf("deployments in %s = %v, want [web]", ns, names(deps.Items))
	}
	replicas, _, _ := unstructured.NestedInt64(deps.Items[0].Object, "spec", "replicas")
	if replicas != 2 {
		t.Errorf("web spec.replicas = %d, want 2", replicas)
	}
	var managers []string
	for _, mf := range deps.Items[0].GetManagedFields() {
		managers = append(managers, mf.Manager+"/"+string(mf.Operation))
	}
	if !contains(managers, "envctl-test/Apply") {
		t.Errorf("web managedFields managers = %v, want envctl-test/Apply (server-side apply)", managers)
	}
	cm, err := admin.Resource(configMapsGVR).Namespace(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get configmap: %v", err)
	}
	if g := cm.Object["data"].(map[string]any)["greeting"]; g != "hello" {
		t.Errorf("configmap data.greeting = %v, want hello", g)
	}

	// RBAC: reader and nobody may not list secrets; then reader may.
	reader := dynClient(t, c.RESTConfig(UserReader))
	nobody := dynClient(t, c.RESTConfig(UserNobody))
	for name, dc := range map[string]dynamic.Interface{UserReader: reader, UserNobody: nobody} {
		_, err := dc.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if !apierrors.IsForbidden(err) {
			t.Fatalf("%s list secrets before RBAC: err = %v, want Forbidden", name, err)
		}
	}
	if _, stderr, err := c.RunKubectl("", "--context=reader", "get", "secrets", "-n", ns); err == nil || !strings.Contains(stderr, "forbidden") {
		t.Errorf("kubectl --context=reader get secrets before RBAC: err=%v stderr=%q, want forbidden", err, stderr)
	}

	c.KubectlInput(t, readSecretsRBAC, "apply", "--server-side", "-f", "-")
	// The RBAC authorizer sees the new binding through an informer; wait for it.
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, err := reader.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsForbidden(err) || time.Now().After(deadline) {
			t.Fatalf("reader list secrets after RBAC: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Kubectl(t, "--context=reader", "get", "secrets", "-n", ns)
	if _, err := nobody.Resource(secretsGVR).Namespace(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("nobody list secrets after RBAC for reader: err = %v, want Forbidden", err)
	}
	if _, err := reader.Resource(deploymentsGVR).Namespace(ns).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("reader list deployments: err = %v, want Forbidden", err)
	}

	// OpenAPI v3 discovery and one group-version document.
	var index struct {
		Paths map[string]struct {
			ServerRelativeURL string `json:"serverRelativeURL"`
		} `json:"paths"`
	}
	getJSON(t, c.RESTConfig(UserAdmin), "/openapi/v3", &index)
	apps, ok := index.Paths["apis/apps/v1"]
	if !ok {
		t.Fatalf("/openapi/v3 has no apis/apps/v1 (has %d paths)", len(index.Paths))
	}
	var doc struct {
		OpenAPI    string `json:"openapi"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	getJSON(t, c.RESTConfig(UserAdmin), apps.ServerRelativeURL, &doc)
	if _, ok := doc.Components.Schemas["io.k8s.api.apps.v1.Deployment"]; !ok || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("%s: openapi %q, has Deployment schema %v", apps.ServerRelativeURL, doc.OpenAPI, ok)
	}

	// Namespace gives each test its own namespace.
	n1, n2 := c.Namespace(t, "iso"), c.Namespace(t, "iso")
	if n1 == n2 || !strings.HasPrefix(n1, "iso-") {
		t.Errorf("Namespace gave %q and %q", n1, n2)
	}
}

// TestStartStop starts a second, private cluster and checks that Stop kills
// both processes and removes the directory.
func TestStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a second cluster")
	}
	if _, err := KubeAPIServerPath(); err != nil {
		skipOrFatal(t, err)
	}
	c, err := New(Options{Logf: t.Logf})
	if err != nil {
		skipOrFatal(t, err)
	}
	defer c.Stop()
	if c.Server == Shared(t).Server {
		t.Fatal("second cluster has the shared cluster's address")
	}
	pids := []int{c.apiserv.cmd.Process.Pid, c.etcd.cmd.Process.Pid}
	c.Stop()
	c.Stop() // idempotent
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still there after Stop (kill -0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(c.Dir); os.Getenv(EnvKeep) == "" && !os.IsNotExist(err) {
		t.Errorf("%s still there after Stop (%v)", c.Dir, err)
	}
}

// fakeTB records Skipf/Fatalf instead of ending the test.
type fakeTB struct {
	testing.TB
	skipped, failed string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func runFake(fn func(tb testing.TB)) *fakeTB {
	f := &fakeTB{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(f)
	}()
	<-done
	return f
}

func TestMissingDependency(t *testing.T) {
	t.Setenv(EnvKubeAPIServer, "/nonexistent/kube-apiserver")
	_, err := New(Options{})
	var md *MissingDependencyError
	if !errors.As(err, &md) || md.What != "kube-apiserver" {
		t.Fatalf("New with missing kube-apiserver: err = %v, want *MissingDependencyError", err)
	}

	t.Setenv(EnvKubeAPIServer, "")
	t.Setenv(EnvTestBin, t.TempDir())
	_, err = KubeAPIServerPath()
	if !errors.As(err, &md) || !strings.Contains(md.Fix, "hack/build-kube-apiserver.sh") {
		t.Fatalf("KubeAPIServerPath with empty cache: err = %v", err)
	}

	t.Setenv("CI", "")
	f := runFake(func(tb testing.TB) { skipOrFatal(tb, err) })
	if f.skipped == "" || f.failed != "" || !strings.Contains(f.skipped, "bash hack/build-kube-apiserver.sh") {
		t.Errorf("without CI: skipped=%q failed=%q, want a skip naming the build script", f.skipped, f.failed)
	}
	t.Setenv("CI", "true")
	f = runFake(func(tb testing.TB) { skipOrFatal(tb, err) })
	if f.failed == "" || f.skipped != "" {
		t.Errorf("with CI=true: skipped=%q failed=%q, want a failure", f.skipped, f.failed)
	}
	t.Setenv(EnvEtcd, "/nonexistent/etcd")
	if _, err := EtcdPath(); !errors.As(err, &md) || md.What != "etcd" {
		t.Errorf("EtcdPath with bad %s: %v", EnvEtcd, err)
	}
}

func dynClient(t *testing.T, cfg *rest.Config) dynamic.Interface {
	t.Helper()
	dc, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dc
}

func getJSON(t *testing.T, cfg *rest.Config, path string, v any) {
	t.Helper()
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(cfg.Host + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func names(items []unstructured.Unstructured) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.GetName())
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSweepStale(t *testing.T) {
	// A pid that surely is dead: a process that has exited and been reaped.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	dead := cmd.Process.Pid
	mk := func(owner string) string {
		d, err := os.MkdirTemp("", dirPrefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		if owner != "" {
			os.WriteFile(filepath.Join(d, ownerFile), []byte(owner), 0o600)
		}
		return d
	}
	stale, live, kept := mk(strconv.Itoa(dead)), mk(strconv.Itoa(os.Getpid())), mk("")
	sweepStale(t.Logf)
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("dir of dead pid %d not swept (%v)", dead, err)
	}
	for _, d := range []string{live, kept} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s swept: %v", d, err)
		}
	}
}
