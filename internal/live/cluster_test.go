package live_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// plantedSecret is a value that must never appear in any output.
const plantedSecret = "planted-S3cret-value-9f8e7d"

// app is a small application tree: a Deployment that reads a generated
// ConfigMap and Secret, a Service. Edits are applied on top per scenario.
func app(ns string, edits map[string]string) map[string]string {
	files := map[string]string{
		"kustomization.yaml": `namespace: ` + ns + `
resources: [app.yaml]
labels:
- pairs: {envctl.dev/test: ` + ns + `}
  includeSelectors: false
  includeTemplates: false
configMapGenerator:
- name: app-config
  literals:
  - LOG_LEVEL=info
  files:
  - flags.json
secretGenerator:
- name: db
  literals:
  - password=` + plantedSecret + `
`,
		"flags.json": "{\n  \"newCheckout\": true,\n  \"split\": 50\n}\n",
		"app.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 2
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: example/api:1.0.0
        ports:
        - containerPort: 8080
        env:
        - name: LOG_LEVEL
          valueFrom:
            configMapKeyRef: {name: app-config, key: LOG_LEVEL}
        envFrom:
        - secretRef: {name: db}
        resources:
          requests: {cpu: "0.5", memory: 1Gi}
          limits: {cpu: "1", memory: 2048Mi}
        volumeMounts:
        - {name: flags, mountPath: /etc/flags}
      volumes:
      - name: flags
        configMap: {name: app-config}
---
apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: {app: api}
  ports:
  - port: 80
    targetPort: 8080
`,
	}
	for k, v := range edits {
		files[k] = v
	}
	return files
}

func render(t *testing.T, files map[string]string) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := overlay.Render(context.Background(), filesys.MakeFsOnDisk(), dir, overlay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.YAML
}

type applyMode string

const (
	serverSide applyMode = "--server-side"
	clientSide applyMode = "client-side"
)

func apply(t *testing.T, c *testcluster.Cluster, mode applyMode, rendered []byte) {
	t.Helper()
	args := []string{"apply", "-f", "-"}
	if mode == serverSide {
		args = append(args, "--server-side", "--field-manager=envctl")
	}
	c.KubectlInput(t, string(rendered), args...)
}

func target(ns string) live.Target {
	return live.Target{Namespace: ns, Selector: map[string]string{"envctl.dev/test": ns}}
}

// clusters is the Source `envctl diff --kubeconfig KC --context CTX` uses.
func clusters(kubeconfig, kubeContext string) *live.Clusters {
	return &live.Clusters{Options: live.ConnectOptions{Kubeconfig: kubeconfig, Overrides: clientcmd.ConfigOverrides{CurrentContext: kubeContext}}}
}

// result is one environment's comparison.
type result struct {
	Report   *drift.Report
	Problems []live.Problem
}

// diff is what `envctl diff` does for one environment: read what is live
// for the rendered objects and compare.
func diff(src live.Source, tg live.Target, rendered []byte, ignore ...drift.IgnoreRule) (result, error) {
	desired, err := manifest.Parse(rendered)
	if err != nil {
		return result{}, err
	}
	st, err := live.ReadFor(context.Background(), src, tg, desired)
	if err != nil {
		return result{}, err
	}
	rep, err := drift.Compare(st.Desired, st.Live, drift.Options{Environment: "test", DefaultNamespace: st.Namespace, Ignore: ignore, Selector: tg.Selector})
	return result{Report: rep, Problems: st.Problems}, err
}

func compare(t *testing.T, c *testcluster.Cluster, ns string, rendered []byte, ignore ...drift.IgnoreRule) *drift.Report {
	t.Helper()
	res, err := diff(clusters(c.Kubeconfig, testcluster.UserAdmin), target(ns), rendered, ignore...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Problems) > 0 {
		t.Fatalf("problems reading live state: %v", res.Problems)
	}
	assertNoSecret(t, res.Report)
	return res.Report
}

// assertNoSecret prints the report in every format and fails if the
// planted secret value, or its base64, shows anywhere.
func assertNoSecret(t *testing.T, rep *drift.Report) {
	t.Helper()
	for _, format := range drift.Formats() {
		var buf bytes.Buffer
		if err := drift.Write(&buf, format, []*drift.Report{rep}, drift.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		for _, leak := range []string{plantedSecret, "cGxhbnRlZC1TM2NyZXQtdmFsdWUtOWY4ZTdk"} {
			if strings.Contains(buf.String(), leak) {
				t.Fatalf("%s output contains the secret value:\n%s", format, buf.String())
			}
		}
	}
}

var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

// summary renders a report as "status kind/name [paths]" lines for asserts.
func summary(rep *drift.Report) string {
	var lines []string
	for _, o := range rep.Objects {
		if o.Status == drift.StatusInSync {
			continue
		}
		name := o.ID.Name
		if o.ID.Kind == "ConfigMap" || o.ID.Kind == "Secret" {
			name = hashSuffix.ReplaceAllString(name, "")
		}
		line := string(o.Status) + " " + o.ID.Kind + "/" + name
		if o.Renamed != nil {
			line = string(o.Status) + " " + o.ID.Kind + "/" + o.Renamed.Base + " (renamed)"
		}
		var paths []string
		for _, ch := range o.Changes {
			if ch.FollowsRename == nil {
				paths = append(paths, string(ch.Kind)+":"+ch.Path)
			}
		}
		if len(paths) > 0 {
			line += " [" + strings.Join(paths, " ") + "]"
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n")
}

func expectDrift(t *testing.T, rep *drift.Report, want string) {
	t.Helper()
	if got := summary(rep); got != want {
		t.Errorf("drift:\n%s\nwant:\n%s", got, want)
	}
}

func TestFreshApplyHasNoDrift(t *testing.T) {
	c := testcluster.Shared(t)
	for _, mode := range []applyMode{serverSide, clientSide} {
		t.Run(string(mode), func(t *testing.T) {
			ns := c.Namespace(t, "fresh")
			rendered := render(t, app(ns, nil))
			apply(t, c, mode, rendered)
			rep := compare(t, c, ns, rendered)
			expectDrift(t, rep, "")
			if rep.HasDrift() || rep.Summary.InSync != 4 {
				t.Errorf("summary = %+v, want 4 objects in sync", rep.Summary)
			}
		})
	}
}

func TestHandEditsAreDrift(t *testing.T) {
	c := testcluster.Shared(t)
	tests := []struct {
		name   string
		mutate func(t *testing.T, ns string)
		want   string
	}{
		{"replicas scaled by hand", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "scale", "deployment/api", "--replicas=5")
		}, "changed Deployment/api [changed:spec.replicas]"},
		{"image changed", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "set", "image", "deployment/api", "api=example/api:6.6.6")
		}, "changed Deployment/api [changed:spec.template.spec.containers[name=api].image]"},
		{"env var added by hand", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "set", "env", "deployment/api", "EXTRA=1")
		}, "changed Deployment/api [extra:spec.template.spec.containers[name=api].env[name=EXTRA]]"},
		{"ConfigMap edited in place", func(t *testing.T, ns string) {
			name := strings.TrimPrefix(c.Kubectl(t, "-n", ns, "get", "configmap", "-o", "name", "-l", "envctl.dev/test="+ns), "configmap/")
			c.Kubectl(t, "-n", ns, "patch", "configmap", strings.Fields(name)[0], "--type=merge", "-p", `{"data":{"LOG_LEVEL":"debug"}}`)
		}, "changed ConfigMap/app-config [changed:data.LOG_LEVEL]"},
		{"Secret value changed", func(t *testing.T, ns string) {
			name := strings.TrimPrefix(c.Kubectl(t, "-n", ns, "get", "secret", "-o", "name", "-l", "envctl.dev/test="+ns), "secret/")
			c.Kubectl(t, "-n", ns, "patch", "secret", strings.Fields(name)[0], "--type=merge", "-p", `{"stringData":{"password":"hand-rotated"}}`)
		}, "changed Secret/db [changed:data.password]"},
		{"object deleted", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "delete", "service", "api")
		}, "missing Service/api"},
		{"extra labelled object", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "create", "configmap", "leftover", "--from-literal=a=b")
			c.Kubectl(t, "-n", ns, "label", "configmap", "leftover", "envctl.dev/test="+ns)
		}, "orphaned ConfigMap/leftover"},
		{"label and annotation added by hand", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "label", "deployment", "api", "team=payments")
			c.Kubectl(t, "-n", ns, "annotate", "deployment", "api", "example.com/owner=alice")
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := c.Namespace(t, "edit")
			rendered := render(t, app(ns, nil))
			apply(t, c, serverSide, rendered)
			tt.mutate(t, ns)
			expectDrift(t, compare(t, c, ns, rendered), tt.want)
		})
	}
}

func TestRegeneratedConfigMapIsReportedByBaseNameWithTheWorkloadsThatRoll(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "rename")
	apply(t, c, serverSide, render(t, app(ns, nil)))
	rendered := render(t, app(ns, map[string]string{"flags.json": "{\n  \"newCheckout\": false,\n  \"split\": 90\n}\n"}))
	rep := compare(t, c, ns, rendered)
	expectDrift(t, rep, "changed ConfigMap/app-config (renamed) [changed:data[\"flags.json\"]]\nchanged Deployment/api")
	for _, o := range rep.Objects {
		if o.Renamed == nil {
			continue
		}
		if len(o.Rolls) != 1 || o.Rolls[0].Name != "api" {
			t.Errorf("rolls = %v, want Deployment api", o.Rolls)
		}
		for _, ch := range o.Changes {
			if !strings.Contains(ch.TextDiff, "-  \"newCheckout\": true,") || !strings.Contains(ch.TextDiff, "+  \"newCheckout\": false,") {
				t.Errorf("no key-level text diff: %q", ch.TextDiff)
			}
		}
	}
}

func TestFieldRemovedFromTheRepoAfterAnApplyIsDrift(t *testing.T) {
	c := testcluster.Shared(t)
	for _, mode := range []applyMode{serverSide, clientSide} {
		t.Run(string(mode), func(t *testing.T) {
			ns := c.Namespace(t, "removed")
			withLimits := render(t, app(ns, nil))
			apply(t, c, mode, withLimits)
			files := app(ns, nil)
			files["app.yaml"] = strings.Replace(files["app.yaml"], "          limits: {cpu: \"1\", memory: 2048Mi}\n", "", 1)
			expectDrift(t, compare(t, c, ns, render(t, files)), "changed Deployment/api [removed:spec.template.spec.containers[name=api].resources.limits]")
		})
	}
}

func TestReplicasManagedByAnHPAAreIgnored(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "hpa")
	files := app(ns, map[string]string{"hpa.yaml": `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 70}
`})
	files["kustomization.yaml"] = strings.Replace(files["kustomization.yaml"], "resources: [app.yaml]", "resources: [app.yaml, hpa.yaml]", 1)
	rendered := render(t, files)
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "scale", "deployment/api", "--replicas=7")
	expectDrift(t, compare(t, c, ns, rendered), "")
}

func TestDefaultedFieldsAndQuantitySpellingsAreNotDrift(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "defaults")
	rendered := render(t, app(ns, nil))
	apply(t, c, clientSide, rendered)
	// The server stored 500m, 1Gi, 2Gi, protocol TCP, a cluster IP, and a
	// dozen defaults (strategy, revisionHistoryLimit, dnsPolicy, ...).
	out := c.Kubectl(t, "-n", ns, "get", "deployment", "api", "-o", "jsonpath={.spec.template.spec.containers[0].resources}")
	if !strings.Contains(out, "500m") || !strings.Contains(out, "2Gi") {
		t.Fatalf("the server did not normalise quantities: %s", out)
	}
	expectDrift(t, compare(t, c, ns, rendered), "")
}

func TestIgnoreRulesSkipFieldsManagedElsewhere(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "ignore")
	rendered := render(t, app(ns, nil))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "set", "image", "deployment/api", "api=example/api:canary")
	rep := compare(t, c, ns, rendered, drift.IgnoreRule{Kind: "Deployment", Name: "api", Pointer: "/spec/template/spec/containers/name=api/image"})
	expectDrift(t, rep, "")
}

func TestCustomResourceWithItsCRD(t *testing.T) {
	c := testcluster.Shared(t)
	crd, err := os.ReadFile("../../crds/servicemonitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.KubectlInput(t, string(crd), "apply", "--server-side", "-f", "-")
	c.Kubectl(t, "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com", "--timeout=30s")
	ns := c.Namespace(t, "crd")
	files := app(ns, map[string]string{"sm.yaml": `apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  endpoints:
  - port: http
    interval: 30s
`})
	files["kustomization.yaml"] = strings.Replace(files["kustomization.yaml"], "resources: [app.yaml]", "resources: [app.yaml, sm.yaml]", 1)
	rendered := render(t, files)
	// Discovery may lag the CRD by a moment.
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, _, err := c.RunKubectl(string(rendered), "apply", "--server-side", "--field-manager=envctl", "-f", "-"); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	expectDrift(t, compare(t, c, ns, rendered), "")
	c.Kubectl(t, "-n", ns, "patch", "servicemonitor", "api", "--type=merge", "-p", `{"spec":{"endpoints":[{"port":"http","interval":"5s"}]}}`)
	expectDrift(t, compare(t, c, ns, rendered), "changed ServiceMonitor/api [changed:spec.endpoints[0].interval]")
}

func compareAs(t *testing.T, c *testcluster.Cluster, user, ns string, rendered []byte) result {
	t.Helper()
	res, err := diff(clusters(c.Kubeconfig, user), target(ns), rendered)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestAKindForbiddenByRBACIsReportedAndTheRestCompared(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "rbac")
	rendered := render(t, app(ns, nil))
	apply(t, c, serverSide, rendered)
	c.KubectlInput(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: no-secrets, namespace: `+ns+`}
rules:
- apiGroups: ["", "apps"]
  resources: [configmaps, services, deployments]
  verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: nobody-no-secrets, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: no-secrets}
subjects: [{kind: User, name: nobody, apiGroup: rbac.authorization.k8s.io}]
`, "apply", "-f", "-")
	var res result
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		res = compareAs(t, c, testcluster.UserNobody, ns, rendered)
		if len(res.Problems) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(res.Problems) != 1 || res.Problems[0].Kind.Kind != "Secret" || res.Problems[0].Reason != "forbidden" {
		t.Fatalf("problems = %v, want Secret forbidden", res.Problems)
	}
	expectDrift(t, res.Report, "")
	if res.Report.Summary.InSync != 3 {
		t.Errorf("in sync = %d, want the 3 readable objects", res.Report.Summary.InSync)
	}
}

func TestAnUnreachableServerFailsWithinTheTimeoutNamingIt(t *testing.T) {
	for name, server := range map[string]string{
		"connection refused": "https://127.0.0.1:1",
		"no answer":          blackHole(t),
	} {
		t.Run(name, func(t *testing.T) {
			kc := filepath.Join(t.TempDir(), "kubeconfig")
			os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "`+server+`", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`), 0o600)
			start := time.Now()
			src := &live.Clusters{Options: live.ConnectOptions{Kubeconfig: kc, Overrides: clientcmd.ConfigOverrides{Timeout: "2"}}}
			_, err := diff(src, live.Target{Namespace: "x"}, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"))
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), server) {
				t.Fatalf("err = %v, want one naming %s", err, server)
			}
			if took > 10*time.Second {
				t.Errorf("took %s with a 2s request timeout", took)
			}
		})
	}
}

// blackHole returns the URL of a listener that accepts and never answers.
func blackHole(t *testing.T) string {
	t.Helper()
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()
	return "https://" + ln.Addr().String()
}

func TestASnapshotGivesTheSameResultAsTheLiveDiff(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "snap")
	rendered := render(t, app(ns, nil))
	apply(t, c, clientSide, rendered)
	c.Kubectl(t, "-n", ns, "scale", "deployment/api", "--replicas=3")
	secret := strings.Fields(strings.TrimPrefix(c.Kubectl(t, "-n", ns, "get", "secret", "-o", "name", "-l", "envctl.dev/test="+ns), "secret/"))[0]
	c.Kubectl(t, "-n", ns, "patch", "secret", secret, "--type=merge", "-p", `{"stringData":{"password":"rotated"}}`)
	c.Kubectl(t, "-n", ns, "create", "configmap", "stray")
	c.Kubectl(t, "-n", ns, "label", "configmap", "stray", "envctl.dev/test="+ns)

	liveRep := compare(t, c, ns, rendered)

	desired, _ := manifest.Parse(rendered)
	snap, err := live.Capture(context.Background(), clusters(c.Kubeconfig, testcluster.UserAdmin), target(ns), desired, live.CaptureOptions{Env: "test", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(snap), plantedSecret) || strings.Contains(string(snap), "rotated") {
		t.Fatal("the snapshot holds a secret value")
	}
	file := filepath.Join(t.TempDir(), "snap.yaml")
	os.WriteFile(file, snap, 0o644)
	files, err := live.ReadSnapshots(0, file)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := live.SelectSnapshot(files, "test", live.SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := diff(s, target(ns), rendered)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := summary(res.Report), summary(liveRep); got != want || want == "" {
		t.Errorf("snapshot diff:\n%s\nlive diff:\n%s", got, want)
	}
}

func TestAConnectionHandsOutTheClientsThatWrite(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "write")
	conn, err := clusters(c.Kubeconfig, testcluster.UserAdmin).Connect(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	m, err := conn.Mapping(context.Background(), schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
	if err != nil {
		t.Fatal(err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "written", "labels": map[string]any{"envctl.dev/test": ns}},
		"data":     map[string]any{"k": "v"},
	}}
	if _, err := conn.Dynamic().Resource(m.Resource).Namespace(ns).Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if cfg := conn.RESTConfig(); cfg.UserAgent != "envctl" || cfg.Timeout != live.DefaultRequestTimeout {
		t.Errorf("RESTConfig: user agent %q, timeout %s; want envctl's", cfg.UserAgent, cfg.Timeout)
	}
	res, err := conn.Read(context.Background(), live.Query{Kinds: []schema.GroupVersionKind{m.GroupVersionKind}, Namespaces: []string{ns}, Selector: "envctl.dev/test=" + ns})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].GetName() != "written" {
		t.Errorf("read back %d objects, want the one written", len(res.Objects))
	}
}

// A live Secret that carries the snapshot salt annotation and holds, as
// its value, a digest of the rendered value (old format or new) is still a
// Secret whose value differs: only a snapshot file compares digests, so
// nothing on the cluster can make diff read a changed value as in sync.
func TestALiveSecretDressedAsASnapshotIsComparedAsItIs(t *testing.T) {
	c := testcluster.Shared(t)
	salt := []byte("fixed-salt")
	sum := sha256.Sum256(append(append([]byte(nil), salt...), plantedSecret...))
	newDigest, err := live.Hasher{}.Digest(plantedSecret)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"format-1 digest": "envctl-sha256:" + hex.EncodeToString(sum[:]),
		"scrypt digest":   newDigest,
	} {
		t.Run(name, func(t *testing.T) {
			ns := c.Namespace(t, "dressed")
			rendered := render(t, app(ns, nil))
			apply(t, c, serverSide, rendered)
			secret := strings.Fields(strings.TrimPrefix(c.Kubectl(t, "-n", ns, "get", "secret", "-o", "name", "-l", "envctl.dev/test="+ns), "secret/"))[0]
			c.Kubectl(t, "-n", ns, "annotate", "secret", secret, live.SaltAnnotation+"="+hex.EncodeToString(salt))
			c.Kubectl(t, "-n", ns, "patch", "secret", secret, "--type=merge", "-p", `{"data":{"password":"`+base64.StdEncoding.EncodeToString([]byte(value))+`"}}`)

			want := "changed Secret/db [changed:data.password]"
			if got := summary(compare(t, c, ns, rendered)); got != want {
				t.Errorf("live diff:\n%s\nwant:\n%s", got, want)
			}

			// The same through a snapshot of it: the digest string is the
			// live value, digested again.
			desired, _ := manifest.Parse(rendered)
			snap, err := live.Capture(context.Background(), clusters(c.Kubeconfig, testcluster.UserAdmin), target(ns), desired, live.CaptureOptions{Env: "test", Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			sf, err := live.ParseSnapshot("snap.yaml", snap)
			if err != nil {
				t.Fatal(err)
			}
			s, _, err := live.SelectSnapshot([]*live.SnapshotFile{sf}, "test", live.SelectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := diff(s, target(ns), rendered)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(res.Report); got != want {
				t.Errorf("snapshot diff:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}
