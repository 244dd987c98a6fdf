package deploy_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

var (
	deployments = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	configMaps  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	services    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	secrets     = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	leases      = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
)

// env is a test environment on the shared cluster: its namespace, a
// connection and an admin client to look with.
type env struct {
	t    *testing.T
	tc   *testcluster.Cluster
	ns   string
	c    *live.Cluster
	dyn  dynamic.Interface
	name string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	tc := testcluster.Shared(t)
	ns := tc.Namespace(t, "deploy")
	c, err := live.Connect(context.Background(), live.ConnectOptions{Kubeconfig: tc.Kubeconfig, Overrides: clientcmd.ConfigOverrides{CurrentContext: testcluster.UserAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(tc.RESTConfig(testcluster.UserAdmin))
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, tc: tc, ns: ns, c: c, dyn: dyn, name: "test"}
}

// app renders a small application: a Deployment reading a hashed
// ConfigMap, and a Service. hash stands for the generator's suffix.
func app(hash, image string, replicas int, withService bool) string {
	s := `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config-` + hash + `
data:
  LOG_LEVEL: info-` + hash + `
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ` + strconv.Itoa(replicas) + `
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: ` + image + `
        envFrom:
        - configMapRef: {name: app-config-` + hash + `}
`
	if withService {
		s += `---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports:
  - port: 80
`
	}
	return s
}

func (e *env) request(render string) deploy.Request {
	e.t.Helper()
	objs, err := manifest.Parse([]byte(render))
	if err != nil {
		e.t.Fatal(err)
	}
	return deploy.Request{
		Target:  deploy.Target{Environment: e.name, Namespace: e.ns},
		Objects: objs,
		Render:  []byte(render),
		Meta:    deploy.Meta{User: "tester", Commit: "abc123", Version: "test"},
		Timeout: 20 * time.Second,
	}
}

func (e *env) apply(req deploy.Request) *deploy.Result {
	e.t.Helper()
	res, err := deploy.Apply(context.Background(), e.c, req)
	if err != nil {
		e.t.Fatalf("apply: %v", err)
	}
	return res
}

func (e *env) exists(gvr schema.GroupVersionResource, name string) bool {
	e.t.Helper()
	_, err := e.dyn.Resource(gvr).Namespace(e.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		e.t.Fatal(err)
	}
	return err == nil
}

func (e *env) history() []*deploy.Release {
	e.t.Helper()
	st := &deploy.Store{Client: e.dyn, Namespace: e.ns, Environment: e.name}
	h, err := st.List(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

func statuses(h []*deploy.Release) string {
	var out []string
	for _, r := range h {
		out = append(out, strconv.Itoa(r.Revision)+":"+string(r.Status))
	}
	return strings.Join(out, " ")
}

func TestApplyRecordsReleasesPrunesByInventoryAndKeepsGenerations(t *testing.T) {
	e := newEnv(t)
	e.tc.CompleteRollouts(t, e.ns)

	req := e.request(app("cccccccccc", "nginx:1", 2, true))
	req.Wait = true
	res := e.apply(req)
	if res.Release == nil || res.Release.Status != deploy.StatusDeployed || res.Release.Revision != 1 {
		t.Fatalf("first apply: release %+v", res.Release)
	}
	if got := res.Plan.Count(deploy.ActionCreate); got != 3 {
		t.Errorf("first apply created %d objects, want 3", got)
	}
	if !e.exists(services, "web") || !e.exists(configMaps, "app-config-cccccccccc") {
		t.Fatal("objects not created")
	}

	// Nothing changed: nothing is written, not even the lock or a release.
	res = e.apply(e.request(app("cccccccccc", "nginx:1", 2, true)))
	if res.Release != nil || !res.Plan.Empty() {
		t.Fatalf("re-apply wrote release %+v, plan %+v", res.Release, res.Plan.Steps)
	}
	if e.exists(leases, deploy.LockName(e.name)) {
		t.Error("the lock is left behind")
	}

	// A new config generation, and the Service leaves the repository.
	req = e.request(app("bbbbbbbbbb", "nginx:1", 2, false))
	req.Wait = true
	res = e.apply(req)
	if res.Release.Revision != 2 || res.Release.Status != deploy.StatusDeployed {
		t.Fatalf("second apply: %+v", res.Release)
	}
	if e.exists(services, "web") {
		t.Error("the Service the render lost was not pruned")
	}
	if !e.exists(configMaps, "app-config-cccccccccc") {
		t.Error("the old ConfigMap generation was pruned; release 1 still renders it")
	}
	var retained bool
	for _, it := range res.Release.Inventory {
		if it.Name == "app-config-cccccccccc" && it.Retained {
			retained = true
		}
	}
	if !retained {
		t.Errorf("inventory does not retain the old generation: %+v", res.Release.Inventory)
	}
	if got := statuses(e.history()); got != "2:deployed 1:superseded" {
		t.Errorf("history %s", got)
	}
	rel2, err := (&deploy.Store{Client: e.dyn, Namespace: e.ns, Environment: e.name}).Get(context.Background(), 2)
	if err != nil {
		t.Fatal(err)
	}
	if string(rel2.Render) != string(req.Render) || rel2.User != "tester" || rel2.Commit != "abc123" {
		t.Errorf("release 2 does not keep the render and its origin: user %q commit %q", rel2.User, rel2.Commit)
	}
}

// The same field owned by another manager: a conflict naming field and
// manager, and --force-conflicts takes it.
func TestApplyConflictNamesFieldAndManager(t *testing.T) {
	e := newEnv(t)
	e.apply(e.request(app("cccccccccc", "nginx:1", 2, false)))

	scale := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": e.ns},
		"spec":     map[string]any{"replicas": int64(5)},
	}}
	if _, err := e.dyn.Resource(deployments).Namespace(e.ns).Apply(context.Background(), "web", scale, metav1.ApplyOptions{FieldManager: "hpa-like", Force: true}); err != nil {
		t.Fatal(err)
	}
	req := e.request(app("cccccccccc", "nginx:1", 3, false))
	_, err := deploy.Apply(context.Background(), e.c, req)
	var ce *deploy.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("want a conflict, got %v", err)
	}
	if len(ce.Conflicts) != 1 || ce.Conflicts[0].Field != ".spec.replicas" || ce.Conflicts[0].Manager != "hpa-like" {
		t.Errorf("conflict %+v", ce.Conflicts)
	}
	if !strings.Contains(err.Error(), "Deployment "+e.ns+"/web") {
		t.Errorf("error does not name the object: %v", err)
	}
	if got := statuses(e.history()); got != "2:failed 1:deployed" {
		t.Errorf("history after the conflict: %s", got)
	}

	req.ForceConflicts = true
	res := e.apply(req)
	if res.Release.Status != deploy.StatusDeployed {
		t.Fatalf("forced apply: %+v", res.Release)
	}
	u, err := e.dyn.Resource(deployments).Namespace(e.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas"); r != 3 {
		t.Errorf("replicas %d after --force-conflicts, want 3", r)
	}
	if got := statuses(e.history()); got != "3:deployed 2:failed 1:superseded" {
		t.Errorf("history: %s", got)
	}
}

func TestApplyFailsAtOnceWhileLockedAndTakesOverAStaleLock(t *testing.T) {
	e := newEnv(t)
	other, err := deploy.Acquire(context.Background(), e.dyn, e.ns, e.name, "alice on ci (pid 1)", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = deploy.Apply(context.Background(), e.c, e.request(app("cccccccccc", "nginx:1", 1, false)))
	var le *deploy.LockedError
	if !errors.As(err, &le) || le.Holder != "alice on ci (pid 1)" {
		t.Fatalf("want a locked error naming alice, got %v", err)
	}
	if e.exists(deployments, "web") {
		t.Fatal("an apply that could not lock wrote")
	}

	// The holder dies: its lease is no longer renewed.
	stopRenewing(t, e, other)
	time.Sleep(2500 * time.Millisecond)
	req := e.request(app("cccccccccc", "nginx:1", 1, false))
	res := e.apply(req)
	if res.TookOverLock == nil || res.TookOverLock.Holder != "alice on ci (pid 1)" {
		t.Errorf("took over %+v", res.TookOverLock)
	}
	if !e.exists(deployments, "web") {
		t.Error("not applied after taking over the stale lock")
	}
}

// stopRenewing makes a held lock look like its holder was killed: it
// stops renewing it and leaves the lease in place.
func stopRenewing(t *testing.T, e *env, l *deploy.Lock) {
	t.Helper()
	u, err := e.dyn.Resource(leases).Namespace(e.ns).Get(context.Background(), deploy.LockName(e.name), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_ = l.Release(context.Background())
	u.SetResourceVersion("")
	u.SetUID(types.UID(""))
	u.SetCreationTimestamp(metav1.Time{})
	u.SetManagedFields(nil)
	if _, err := e.dyn.Resource(leases).Namespace(e.ns).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestApplyWaitTimesOutNamingTheWorkload(t *testing.T) {
	e := newEnv(t) // no CompleteRollouts: nothing ever becomes ready
	req := e.request(app("cccccccccc", "nginx:1", 1, false))
	req.Wait, req.Timeout = true, 2*time.Second
	_, err := deploy.Apply(context.Background(), e.c, req)
	var nr *deploy.NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("want not ready, got %v", err)
	}
	if len(nr.Objects) != 1 || nr.Objects[0].ID.Name != "web" || nr.Objects[0].Status != "InProgress" {
		t.Errorf("not ready: %+v", nr.Objects)
	}
	if got := statuses(e.history()); got != "1:failed" {
		t.Errorf("history %s", got)
	}
}

func TestApplyImmutableFieldNamesItAndRecreateFixesIt(t *testing.T) {
	e := newEnv(t)
	job := func(image string) string {
		return `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: m
        image: ` + image + `
`
	}
	e.apply(e.request(job("migrate:1")))
	_, err := deploy.Apply(context.Background(), e.c, e.request(job("migrate:2")))
	var ie *deploy.ImmutableError
	if !errors.As(err, &ie) {
		t.Fatalf("want an immutable-field error, got %v", err)
	}
	if !strings.Contains(ie.Fields[0], "spec.template") || !strings.Contains(err.Error(), "Job "+e.ns+"/migrate") {
		t.Errorf("error %v names fields %v", err, ie.Fields)
	}
	req := e.request(job("migrate:2"))
	req.Recreate = true
	e.apply(req)
	u, err := e.dyn.Resource(schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}).Namespace(e.ns).Get(context.Background(), "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if img := cs[0].(map[string]any)["image"]; img != "migrate:2" {
		t.Errorf("image %v after --recreate", img)
	}
}

func TestApplyCRDAndItsCustomResourcesInOneRun(t *testing.T) {
	e := newEnv(t)
	group := strings.ReplaceAll(e.ns, "-", "") + ".example.com"
	render := `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
---
apiVersion: ` + group + `/v1
kind: Widget
metadata:
  name: w1
spec:
  size: 3
`
	res := e.apply(e.request(render))
	if res.Release.Status != deploy.StatusDeployed {
		t.Fatalf("%+v", res.Release)
	}
	w := schema.GroupVersionResource{Group: group, Version: "v1", Resource: "widgets"}
	if _, err := e.dyn.Resource(w).Namespace(e.ns).Get(context.Background(), "w1", metav1.GetOptions{}); err != nil {
		t.Fatalf("custom resource: %v", err)
	}
}

func TestHandEditedReleaseIsUnreadableAndApplyStillWorks(t *testing.T) {
	e := newEnv(t)
	e.apply(e.request(app("cccccccccc", "nginx:1", 1, false)))
	ri := e.dyn.Resource(secrets).Namespace(e.ns)
	u, err := ri.Get(context.Background(), deploy.SecretName(e.name, 1), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := unstructured.SetNestedField(u.Object, "bm90IGd6aXA=", "data", "release"); err != nil {
		t.Fatal(err)
	}
	if _, err := ri.Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	h := e.history()
	if len(h) != 1 || h[0].Status != deploy.StatusUnreadable || !strings.Contains(h[0].ReadError, "gzip") {
		t.Fatalf("history %+v", h[0])
	}
	res := e.apply(e.request(app("cccccccccc", "nginx:2", 1, false)))
	if res.Release.Revision != 2 || res.Release.Status != deploy.StatusDeployed {
		t.Fatalf("apply after a hand edit: %+v", res.Release)
	}
}

// An apply killed after recording its pending release: the next apply
// prunes what the killed one had in its inventory and marks it failed.
func TestKilledApplyIsFinishedByTheNext(t *testing.T) {
	e := newEnv(t)
	e.apply(e.request(app("cccccccccc", "nginx:1", 1, false)))
	// The killed apply would have created the Service.
	ctx, cancel := context.WithCancel(context.Background())
	req := e.request(app("cccccccccc", "nginx:1", 1, true))
	req.Confirm = func(*deploy.Plan) (bool, error) { return true, nil }
	req.Progress = func(line string) {
		if strings.Contains(line, "Service") {
			cancel()
		}
	}
	_, _ = deploy.Apply(ctx, e.c, req)
	// Back to the render without the Service.
	res := e.apply(e.request(app("cccccccccc", "nginx:1", 1, false)))
	if e.exists(services, "web") {
		t.Errorf("the Service the killed apply created was not pruned; plan %+v", res.Plan.Steps)
	}
	for _, r := range e.history() {
		if r.Status == deploy.StatusPending {
			t.Errorf("release %d still pending", r.Revision)
		}
	}
}

// A user who may apply everything but Deployments: the apply fails before
// its first write, naming kind, namespace and verb.
func TestApplyChecksPermissionsBeforeTheFirstWrite(t *testing.T) {
	e := newEnv(t)
	e.tc.KubectlInput(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: deployer, namespace: `+e.ns+`}
rules:
- apiGroups: [""]
  resources: [configmaps, secrets, services]
  verbs: ["*"]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: ["*"]
- apiGroups: [apps]
  resources: [deployments]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: deployer, namespace: `+e.ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: deployer}
subjects: [{kind: User, name: reader, apiGroup: rbac.authorization.k8s.io}]
`, "apply", "-f", "-")
	c, err := live.Connect(context.Background(), live.ConnectOptions{Kubeconfig: e.tc.Kubeconfig, Overrides: clientcmd.ConfigOverrides{CurrentContext: testcluster.UserReader}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = deploy.Apply(context.Background(), c, e.request(app("cccccccccc", "nginx:1", 1, true)))
	var pe *deploy.PermissionError
	if !errors.As(err, &pe) {
		t.Fatalf("want a permission error, got %v", err)
	}
	want := []string{
		"create deployments.apps (Deployment) in namespace " + e.ns,
		"patch deployments.apps (Deployment) in namespace " + e.ns,
	}
	var got []string
	for _, p := range pe.Missing {
		got = append(got, p.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("missing:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if e.exists(configMaps, "app-config-cccccccccc") || e.exists(services, "web") || len(e.history()) != 0 {
		t.Error("an apply without every permission wrote")
	}
}

// Two applies of one environment at once: one deploys, the other fails at
// once naming the holder or, when it got the lock after the first was
// done, finds nothing to do. Never two releases of one revision.
func TestTwoAppliesAtOnce(t *testing.T) {
	e := newEnv(t)
	e.tc.CompleteRollouts(t, e.ns)
	errs := make(chan error, 2)
	results := make(chan *deploy.Result, 2)
	for range 2 {
		go func() {
			req := e.request(app("cccccccccc", "nginx:1", 2, true))
			req.Wait = true
			res, err := deploy.Apply(context.Background(), e.c, req)
			errs <- err
			results <- res
		}()
	}
	deployed, locked, nothing := 0, 0, 0
	for range 2 {
		err, res := <-errs, <-results
		var le *deploy.LockedError
		switch {
		case errors.As(err, &le):
			locked++
			if !strings.Contains(le.Holder, "tester on ") {
				t.Errorf("holder %q", le.Holder)
			}
		case err != nil:
			t.Fatalf("apply: %v", err)
		case res.Release != nil:
			deployed++
		default:
			nothing++
		}
	}
	if deployed != 1 || locked+nothing != 1 {
		t.Errorf("deployed %d, locked out %d, nothing to do %d", deployed, locked, nothing)
	}
	if got := statuses(e.history()); got != "1:deployed" {
		t.Errorf("history %s", got)
	}
}

// --atomic: release 2 never becomes ready, so release 1's render is
// applied again; the history says what happened.
func TestAtomicApplyRollsBackWhenNotReady(t *testing.T) {
	e := newEnv(t)
	stop, err := e.tc.StartRollouts(e.ns)
	if err != nil {
		t.Fatal(err)
	}
	req := e.request(app("cccccccccc", "nginx:1", 1, false))
	req.Wait = true
	e.apply(req)
	stop() // release 2's rollout never finishes...

	req = e.request(app("bbbbbbbbbb", "nginx:2", 1, false))
	req.Wait, req.Atomic, req.Timeout = true, true, 2*time.Second
	req.Progress = func(line string) {
		if strings.Contains(line, "rolling back to release 1") {
			// ...the rollback's does, as release 1's did.
			stop, err := e.tc.StartRollouts(e.ns)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(stop)
		}
	}
	res, err := deploy.Apply(context.Background(), e.c, req)
	var nr *deploy.NotReadyError
	if !errors.As(err, &nr) {
		t.Fatalf("want not ready, got %v", err)
	}
	if res.RolledBack == nil || res.RolledBack.Revision != 3 || res.RolledBack.Description != "rollback to 1 (--atomic)" {
		t.Fatalf("rolled back with %+v", res.RolledBack)
	}
	u, err := e.dyn.Resource(deployments).Namespace(e.ns).Get(context.Background(), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if img := cs[0].(map[string]any)["image"]; img != "nginx:1" {
		t.Errorf("image %v after the atomic rollback", img)
	}
	if got := statuses(e.history()); got != "3:deployed 2:failed 1:superseded" {
		t.Errorf("history %s", got)
	}
}

func TestApplyIntoANamespaceThatDoesNotExistSaysSo(t *testing.T) {
	e := newEnv(t)
	req := e.request(app("cccccccccc", "nginx:1", 1, false))
	req.Namespace = e.ns + "-missing"
	_, err := deploy.Apply(context.Background(), e.c, req)
	if err == nil || !strings.Contains(err.Error(), "namespace "+e.ns+"-missing of environment test does not exist, and the render does not create it") {
		t.Fatalf("got %v", err)
	}
}

func TestHistoryKeepsHistoryMaxReleasesAndSurvivesADeletedOne(t *testing.T) {
	e := newEnv(t)
	for i, img := range []string{"nginx:1", "nginx:2", "nginx:3"} {
		req := e.request(app("cccccccccc", img, 1, false))
		req.HistoryMax = 2
		if res := e.apply(req); res.Release.Revision != i+1 {
			t.Fatalf("apply %d recorded release %d", i+1, res.Release.Revision)
		}
	}
	if got := statuses(e.history()); got != "3:deployed 2:superseded" {
		t.Errorf("history %s, want the newest 2", got)
	}
	// A release deleted by hand leaves a gap; the next apply goes on.
	if err := e.dyn.Resource(secrets).Namespace(e.ns).Delete(context.Background(), deploy.SecretName(e.name, 3), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	res := e.apply(e.request(app("cccccccccc", "nginx:4", 1, false)))
	if res.Release.Revision != 3 {
		t.Errorf("after deleting release 3 by hand, the next is %d (revision numbers follow what is left)", res.Release.Revision)
	}
}

// Rolling back across a CRD version change: the older render drops the
// version the cluster now stores, and the API server refuses it; the
// rollback fails naming the CRD and the field, and nothing else changed.
func TestRollbackAcrossACRDVersionChangeFailsNamingTheCRD(t *testing.T) {
	e := newEnv(t)
	group := strings.ReplaceAll(e.ns, "-", "") + ".example.com"
	crd := func(versions string) string {
		return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.` + group + `
spec:
  group: ` + group + `
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
` + versions
	}
	v1 := `  - name: v1
    served: true
    storage: %s
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
	v2 := `  - name: v2
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`
	cr := func(version string) string {
		return "---\napiVersion: " + group + "/" + version + "\nkind: Gadget\nmetadata:\n  name: g1\nspec: {size: 1}\n"
	}
	e.apply(e.request(crd(strings.Replace(v1, "%s", "true", 1)) + cr("v1")))
	e.apply(e.request(crd(strings.Replace(v1, "%s", "false", 1)+v2) + cr("v2")))
	// The cluster now stores v1 and v2 (status.storedVersions); release 1
	// declares v1 only.
	hist := e.history()
	to, err := deploy.RollbackTarget(e.name, hist, 1)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := deploy.RollbackRequest(e.request(""), to, "rollback to %d")
	if err != nil {
		t.Fatal(err)
	}
	_, err = deploy.Apply(context.Background(), e.c, rb)
	if err == nil || !strings.Contains(err.Error(), "CustomResourceDefinition gadgets."+group) || !strings.Contains(err.Error(), "storedVersions") {
		t.Fatalf("want an error naming the CRD and status.storedVersions, got %v", err)
	}
	if got := statuses(e.history()); !strings.HasPrefix(got, "3:failed 2:deployed") {
		t.Errorf("history %s", got)
	}
}

// A workload an HPA in the render scales: once the autoscaler took
// spec.replicas, a change elsewhere in the Deployment applies without a
// conflict and leaves the replicas it chose; while envctl still owns the
// field it is applied (leaving it out would reset it to 1).
func TestApplyLeavesReplicasToTheAutoscaler(t *testing.T) {
	e := newEnv(t)
	hpa := `---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: web
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 9
`
	e.apply(e.request(app("cccccccccc", "nginx:1", 2, false) + hpa))
	replicas := func() int64 {
		u, err := e.dyn.Resource(deployments).Namespace(e.ns).Get(context.Background(), "web", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		r, _, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
		return r
	}
	// envctl still owns spec.replicas: a change applies it as rendered.
	e.apply(e.request(app("cccccccccc", "nginx:2", 2, false) + hpa))
	if r := replicas(); r != 2 {
		t.Fatalf("replicas %d after a change while envctl owns them, want 2", r)
	}
	// The autoscaler scales through the scale subresource, as its
	// controller does.
	scale := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "autoscaling/v1", "kind": "Scale",
		"metadata": map[string]any{"name": "web", "namespace": e.ns},
		"spec":     map[string]any{"replicas": int64(6)},
	}}
	if _, err := e.dyn.Resource(deployments).Namespace(e.ns).Update(context.Background(), scale, metav1.UpdateOptions{FieldManager: "horizontal-pod-autoscaler"}, "scale"); err != nil {
		t.Fatal(err)
	}
	res := e.apply(e.request(app("cccccccccc", "nginx:3", 2, false) + hpa))
	if res.Release.Status != deploy.StatusDeployed {
		t.Fatalf("%+v", res.Release)
	}
	if r := replicas(); r != 6 {
		t.Errorf("replicas %d after a change, want the autoscaler's 6", r)
	}
}
