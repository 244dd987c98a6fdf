package validate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// serverVerdict is what the API server said of one object: accepted, or
// refused with the fields its causes name (as JSON pointers) and their
// messages.
type serverVerdict struct {
	status   Status
	paths    []string
	messages map[string][]string // pointer → messages
	raw      string
}

// TestCorpusAgreesWithTheAPIServer sends every document of the corpora
// whose verdicts come from the API server (testdata/corpus/cel: custom
// resources with CEL rules; testdata/corpus/limits: names, labels,
// annotations and sizes) to the real kube-apiserver as a server-side dry
// run with strict field validation, and requires the API server's verdict
// and the fields it names to be exactly the corpus's expectation, which
// TestServerCorpora holds envctl to. CRDs are created for real first, so
// that their custom resources can be sent.
func TestCorpusAgreesWithTheAPIServer(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "corpus")
	cfg := c.RESTConfig(testcluster.UserAdmin)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var streams []Stream
	var exps []expectation
	for _, pattern := range serverCorpora {
		s, e := readCorpus(t, pattern)
		streams, exps = append(streams, s...), append(exps, e...)
	}
	ours := validateCorpus(t, streams)

	// CRDs first, for real.
	var docs []map[string]any
	var crds []string
	for _, s := range streams {
		for _, d := range splitDocuments(s.Data) {
			var obj map[string]any
			if err := yaml.Unmarshal(d.Data, &obj); err != nil {
				t.Fatalf("%s:%d: %v", s.Name, d.Line, err)
			}
			docs = append(docs, obj)
			if obj["kind"] == "CustomResourceDefinition" {
				u := &unstructured.Unstructured{Object: obj}
				gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
				if _, err := dyn.Resource(gvr).Create(ctx, u, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil && !apierrors.IsAlreadyExists(err) {
					t.Fatalf("%s:%d: the API server refuses CRD %s: %v", filepath.Base(s.Name), d.Line, u.GetName(), err)
				}
				crds = append(crds, u.GetName())
			}
		}
	}
	for _, name := range crds {
		waitEstablished(ctx, t, dyn, name)
	}
	mapper.Reset()

	judged := 0
	for i, e := range exps {
		obj := docs[i]
		if obj["kind"] == "CustomResourceDefinition" {
			continue
		}
		got := sendDryRun(ctx, t, dyn, mapper, ns, obj)
		judged++
		want := slices.Sorted(slices.Values(e.paths))
		if got.status != e.status || !slices.Equal(got.paths, want) {
			t.Errorf("%s: the API server says %s %v, the corpus expects %s %v (%s)", e.id(), got.status, got.paths, e.status, want, got.raw)
			continue
		}
		// envctl's CEL findings carry the rule's message, as the API
		// server's do.
		r := ours[fmt.Sprintf("%s:%d", e.file, e.line)]
		for _, p := range r.Problems {
			if p.Rule != RuleCRDCEL {
				continue
			}
			if !slices.ContainsFunc(got.messages[p.Path], func(m string) bool { return strings.Contains(m, p.Message) }) {
				t.Errorf("%s: envctl says %s: %q; the API server says %q", e.id(), FieldPath(p.Path), p.Message, got.messages[p.Path])
			}
		}
	}
	if judged < 30 {
		t.Errorf("the API server judged %d objects; the corpora should hold at least 30", judged)
	}
	t.Logf("the API server judged %d objects, as the corpus expects", judged)
}

func waitEstablished(ctx context.Context, t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	gvr := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	for {
		u, err := dyn.Resource(gvr).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("CRD %s is not established: %v", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

var unknownFieldRe = regexp.MustCompile(`unknown field "([^"]+)"`)

// sendDryRun creates obj as a server-side dry run (what kubectl apply
// --dry-run=server and kubectl create --dry-run=server send) with strict
// field validation, and returns the API server's verdict.
func sendDryRun(ctx context.Context, t *testing.T, dyn dynamic.Interface, mapper meta.RESTMapper, ns string, obj map[string]any) serverVerdict {
	t.Helper()
	u := &unstructured.Unstructured{Object: obj}
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		t.Fatalf("%s %s: %v", gvk, u.GetName(), err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(m.Resource).Namespace(ns)
	}
	_, err = ri.Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: "Strict"})
	v := serverVerdict{status: Valid, messages: map[string][]string{}}
	if err == nil {
		return v
	}
	v.status, v.raw = Invalid, err.Error()
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("%s %s: %v", gvk, u.GetName(), err)
	}
	st := se.ErrStatus
	switch {
	case st.Details != nil && len(st.Details.Causes) > 0:
		for _, c := range st.Details.Causes {
			if c.Field == "<nil>" {
				continue // "some validation rules were not checked ..."
			}
			p := fieldToPointer(c.Field)
			v.paths = append(v.paths, p)
			v.messages[p] = append(v.messages[p], c.Message)
		}
	case unknownFieldRe.MatchString(st.Message):
		for _, m := range unknownFieldRe.FindAllStringSubmatch(st.Message, -1) {
			v.paths = append(v.paths, fieldToPointer(m[1]))
		}
	default:
		// A refusal with no field (a request too large): the root.
		v.paths = append(v.paths, "")
	}
	slices.Sort(v.paths)
	v.paths = slices.Compact(v.paths)
	return v
}

// TestSizeLimitsAgreeWithTheAPIServer builds objects around the sizes the
// API server and etcd refuse (too large for the corpus files) and
// requires envctl's verdict and fields to be the API server's. Objects
// that validation accepts are created for real, since etcd's limit
// applies only when an object is stored.
func TestSizeLimitsAgreeWithTheAPIServer(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "sizes")
	cfg := c.RESTConfig(testcluster.UserAdmin)
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: blobs.size.example.com}
spec:
  group: size.example.com
  names: {kind: Blob, plural: blobs, singular: blob, listKind: BlobList}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
`
	var crdObj map[string]any
	if err := yaml.Unmarshal([]byte(crd), &crdObj); err != nil {
		t.Fatal(err)
	}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(ctx, &unstructured.Unstructured{Object: crdObj}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	waitEstablished(ctx, t, dyn, "blobs.size.example.com")

	mi := 1 << 20
	configMap := func(name string, data map[string]any) map[string]any {
		return map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name}, "data": data}
	}
	blob := func(name string, n int) map[string]any {
		return map[string]any{"apiVersion": "size.example.com/v1", "kind": "Blob", "metadata": map[string]any{"name": name},
			"spec": map[string]any{"payload": strings.Repeat("b", n)}}
	}
	tests := []struct {
		name  string
		obj   map[string]any
		paths []string // nil: valid
		gvr   schema.GroupVersionResource
	}{
		{"configmap-1mib", configMap("cm-1mib", map[string]any{"a": strings.Repeat("x", mi/2), "b": strings.Repeat("y", mi/2)}), nil, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
		{"configmap-over-1mib", configMap("cm-over", map[string]any{"a": strings.Repeat("x", mi/2), "b": strings.Repeat("y", mi/2+1)}), []string{""}, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
		{"secret-over-1mib", map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "s-over"},
			"stringData": map[string]any{"a": strings.Repeat("x", mi+1)}}, []string{"/data"}, schema.GroupVersionResource{Version: "v1", Resource: "secrets"}},
		{"annotations-over-256kib", map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "ann-over",
			"annotations": map[string]any{"a": strings.Repeat("x", 128<<10), "b": strings.Repeat("y", 128<<10)}}}, []string{"/metadata/annotations"}, schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}},
		{"blob-1.4mib", blob("blob-small", 1400<<10), nil, schema.GroupVersionResource{Group: "size.example.com", Version: "v1", Resource: "blobs"}},
		{"blob-over-etcd", blob("blob-etcd", 1700<<10), []string{""}, schema.GroupVersionResource{Group: "size.example.com", Version: "v1", Resource: "blobs"}},
		{"blob-over-request", blob("blob-request", 3200<<10), []string{""}, schema.GroupVersionResource{Group: "size.example.com", Version: "v1", Resource: "blobs"}},
	}
	v, err := New(Options{Strict: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := yaml.Marshal(tc.obj)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := v.Validate(ctx, []Input{{Streams: []Stream{{Name: tc.name, Data: append([]byte(crd+"---\n"), data...)}}}})
			if err != nil {
				t.Fatal(err)
			}
			r := rep.Results[1]
			var ours []string
			for _, p := range r.Problems {
				ours = append(ours, p.Path)
			}
			// The API server: validation on a create, etcd's limit when
			// the object is stored.
			_, serr := dyn.Resource(tc.gvr).Namespace(ns).Create(ctx, &unstructured.Unstructured{Object: tc.obj}, metav1.CreateOptions{})
			var theirs []string
			var se *apierrors.StatusError
			switch {
			case serr == nil:
			case errors.As(serr, &se) && se.ErrStatus.Details != nil && len(se.ErrStatus.Details.Causes) > 0:
				for _, c := range se.ErrStatus.Details.Causes {
					theirs = append(theirs, fieldToPointer(c.Field))
				}
			default:
				theirs = []string{""}
			}
			if !slices.Equal(ours, tc.paths) || !slices.Equal(theirs, tc.paths) {
				t.Errorf("envctl %v %v, the API server %v (%v); want %v", r.Status, r.Problems, theirs, serr, tc.paths)
			}
			for _, p := range r.Problems {
				t.Logf("envctl: %s: %s", FieldPath(p.Path), p.Message)
			}
			if serr != nil {
				t.Logf("API server: %.300s", serr)
			}
		})
	}
}
