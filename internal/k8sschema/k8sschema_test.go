package k8sschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/k8sschema/internal/bundle"
)

// decodeYAML splits a multi-document YAML stream into objects decoded as
// the validator expects (json.Number for numbers).
func decodeYAML(t testing.TB, data []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, doc := range bytes.Split(data, []byte("\n---\n")) {
		j, err := yaml.YAMLToJSON(doc)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(bytes.TrimSpace(j), []byte("null")) {
			continue
		}
		var obj map[string]any
		if err := decodeJSON(j, &obj); err != nil {
			t.Fatal(err)
		}
		out = append(out, obj)
	}
	return out
}

func decodeJSON(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

func readYAML(t testing.TB, name string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return decodeYAML(t, data)
}

func objectName(obj map[string]any) string {
	name := ""
	if m, ok := obj["metadata"].(map[string]any); ok {
		name, _ = m["name"].(string)
	}
	return fmt.Sprintf("%v %v %s", obj["apiVersion"], obj["kind"], name)
}

func TestVersionsAreTheGeneratorsReleases(t *testing.T) {
	var want []string
	for _, rel := range bundle.Releases {
		parts := strings.SplitN(strings.TrimPrefix(rel, "v"), ".", 3)
		want = append(want, parts[0]+"."+parts[1])
	}
	if got := Versions(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Versions() = %v, but bundle.Releases are %v: run go generate ./internal/k8sschema", got, want)
	}
	if got := Newest(); got != want[len(want)-1] || got != "1.37" {
		t.Errorf("Newest() = %q, want the newest embedded, %s", got, want[len(want)-1])
	}
	for i, v := range want {
		s, err := Load(v, false)
		if err != nil {
			t.Fatal(err)
		}
		if s.KubernetesRelease() != bundle.Releases[i] {
			t.Errorf("%s: generated from %s, bundle.Releases says %s: run go generate ./internal/k8sschema", v, s.KubernetesRelease(), bundle.Releases[i])
		}
	}
}

func TestLoadVersionForms(t *testing.T) {
	a, err := Load("1.34", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"v1.34", "1.34.2", "v1.34.0"} {
		b, err := Load(v, true)
		if err != nil {
			t.Fatalf("Load(%q): %v", v, err)
		}
		if a != b {
			t.Errorf("Load(%q) returned a different Set than Load(\"1.34\")", v)
		}
	}
	if c, _ := Load("1.34", false); c == a || c.Strict() || !a.Strict() {
		t.Error("strict and non-strict Sets are mixed up")
	}
	for _, v := range []string{"1.20", "1.38", "2", "latest", "", "1.34.x", "1.34.2.1", "v2.0"} {
		_, err := Load(v, false)
		if err == nil {
			t.Fatalf("Load(%q) succeeded", v)
		}
		if !strings.Contains(err.Error(), "1.31, 1.32, 1.33, 1.34, 1.35, 1.36, 1.37") {
			t.Errorf("Load(%q) error does not list the versions: %v", v, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct{ in, minor, patch string }{
		{"1.36", "1.36", ""},
		{"v1.36", "1.36", ""},
		{"1.36.3", "1.36", "3"},
		{"v1.37.0", "1.37", "0"},
		{" 1.35 ", "1.35", ""},
	} {
		m, p, err := ParseVersion(tc.in)
		if err != nil || m != tc.minor || p != tc.patch {
			t.Errorf("ParseVersion(%q) = %q, %q, %v; want %q, %q", tc.in, m, p, err, tc.minor, tc.patch)
		}
	}
	for in, want := range map[string]string{
		"1.30":   `no schemas for Kubernetes version "1.30" (available: 1.31,`,
		"latest": `Kubernetes version "latest" is not MAJOR.MINOR or MAJOR.MINOR.PATCH (available: 1.31,`,
		"1.36.x": `Kubernetes version "1.36.x" is not MAJOR.MINOR`,
	} {
		if _, _, err := ParseVersion(in); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("ParseVersion(%q): %v, want %s...", in, err, want)
		}
	}
}

func TestValidObjects(t *testing.T) {
	objs := readYAML(t, "testdata/valid.yaml")
	if len(objs) < 10 {
		t.Fatalf("only %d objects", len(objs))
	}
	for _, v := range Versions() {
		for _, strict := range []bool{false, true} {
			s, err := Load(v, strict)
			if err != nil {
				t.Fatal(err)
			}
			for _, obj := range objs {
				vs, err := s.Validate(obj)
				if err != nil {
					t.Errorf("%s strict=%v %s: %v", v, strict, objectName(obj), err)
				}
				for _, viol := range vs {
					t.Errorf("%s strict=%v %s: %s", v, strict, objectName(obj), viol)
				}
			}
		}
	}
}

// The example repository's rendered environments (the golden files of
// the CLI tests) are valid in every version, strictly. Kinds that are not
// built in (the ServiceMonitor CRD) have no schema.
func TestGoldenEnvironmentsValid(t *testing.T) {
	files, _ := filepath.Glob("../../cmd/envctl/testdata/golden/*.yaml")
	if len(files) == 0 {
		t.Skip("no golden files")
	}
	for _, v := range Versions() {
		s, err := Load(v, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			for _, obj := range readYAML(t, f) {
				vs, err := s.Validate(obj)
				if errors.Is(err, ErrUnknownKind) {
					if obj["kind"] != "ServiceMonitor" {
						t.Errorf("%s %s: %v", v, objectName(obj), err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, viol := range vs {
					t.Errorf("%s %s %s: %s", v, filepath.Base(f), objectName(obj), viol)
				}
			}
		}
	}
}

// set sets the value at a slash-separated path (no escaping; numeric
// segments index arrays), creating objects as needed.
func set(obj map[string]any, path string, value any) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var cur any = obj
	for i, seg := range segs {
		last := i == len(segs)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[seg] = value
				return
			}
			if _, ok := c[seg]; !ok {
				c[seg] = map[string]any{}
			}
			cur = c[seg]
		case []any:
			n, _ := strconv.Atoi(seg)
			if last {
				c[n] = value
				return
			}
			cur = c[n]
		}
	}
}

func del(obj map[string]any, path string) {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	var cur any = obj
	for _, seg := range segs[:len(segs)-1] {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[seg]
		case []any:
			n, _ := strconv.Atoi(seg)
			cur = c[n]
		}
	}
	delete(cur.(map[string]any), segs[len(segs)-1])
}

func validObject(t *testing.T, kind string) map[string]any {
	t.Helper()
	for _, obj := range readYAML(t, "testdata/valid.yaml") {
		if obj["kind"] == kind {
			return obj
		}
	}
	t.Fatalf("no %s in testdata/valid.yaml", kind)
	return nil
}

func TestMistakes(t *testing.T) {
	const container = "/spec/template/spec/containers/0"
	num := func(s string) json.Number { return json.Number(s) }
	cases := []struct {
		name    string
		kind    string
		mutate  func(obj map[string]any)
		path    string // of the expected violation; "" = valid
		keyword string
		message string // substring
		strict  bool   // the violation is only reported in strict mode
	}{
		{name: "unknown field", kind: "Deployment", strict: true,
			mutate: func(o map[string]any) { set(o, "/spec/replica", num("3")) },
			path:   "/spec/replica", keyword: "additionalProperties", message: `unknown field "replica"`},
		{name: "unknown field in a container", kind: "Deployment", strict: true,
			mutate: func(o map[string]any) { set(o, container+"/imagePullPolcy", "Always") },
			path:   container + "/imagePullPolcy", keyword: "additionalProperties", message: "unknown field"},
		{name: "unknown top-level field", kind: "ConfigMap", strict: true,
			mutate: func(o map[string]any) { set(o, "/spec", map[string]any{}) },
			path:   "/spec", keyword: "additionalProperties"},
		{name: "replicas as a string", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/spec/replicas", "3") },
			path:   "/spec/replicas", keyword: "type", message: "expected integer, but got string"},
		{name: "containerPort beyond int32", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, container+"/ports/0/containerPort", num("3000000000")) },
			path:   container + "/ports/0/containerPort", keyword: "maximum", message: "must be <= 2147483647 (int32) but found 3000000000"},
		{name: "containerPort beyond 65535 is only caught by the API server's own validation", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, container+"/ports/0/containerPort", num("70000")) }},
		{name: "invalid base64 in Secret data", kind: "Secret",
			mutate: func(o map[string]any) { set(o, "/data/password", "not base64!") },
			path:   "/data/password", keyword: "pattern", message: "invalid base64"},
		{name: "bad quantity type", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, container+"/resources/limits/cpu", []any{num("1")}) },
			path:   container + "/resources/limits/cpu", keyword: "type"},
		{name: "bad quantity syntax", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, container+"/resources/requests/memory", "1 GB") },
			path:   container + "/resources/requests/memory", keyword: "pattern", message: "invalid quantity"},
		{name: "missing required field", kind: "Deployment",
			mutate: func(o map[string]any) { del(o, "/spec/selector") },
			path:   "/spec/selector", keyword: "required", message: `required field "selector" is missing`},
		{name: "required field null", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, container+"/name", nil) },
			path:   container + "/name", keyword: "type"},
		{name: "int-or-string of another type", kind: "Service",
			mutate: func(o map[string]any) { set(o, "/spec/ports/0/targetPort", true) },
			path:   "/spec/ports/0/targetPort", keyword: "type"},
		{name: "bad timestamp", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/metadata/creationTimestamp", "yesterday") },
			path:   "/metadata/creationTimestamp", keyword: "format", message: "invalid time"},
		{name: "impossible date", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/metadata/creationTimestamp", "2024-02-30T07:08:09Z") },
			path:   "/metadata/creationTimestamp", keyword: "format", message: "invalid time"},
		{name: "lower-case t (time.RFC3339 rejects it)", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/metadata/creationTimestamp", "2024-05-06t07:08:09Z") },
			path:   "/metadata/creationTimestamp", keyword: "format", message: "invalid time"},
		{name: "RFC 3339 timestamp", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/metadata/creationTimestamp", "2024-05-06T07:08:09.5+02:00") }},
		{name: "labels must be strings", kind: "Service",
			mutate: func(o map[string]any) { set(o, "/metadata/labels", map[string]any{"tier": num("1")}) },
			path:   "/metadata/labels/tier", keyword: "type"},
		{name: "optional fields may be null", kind: "Deployment",
			mutate: func(o map[string]any) {
				set(o, "/spec/strategy", nil)
				set(o, "/metadata/labels", nil)
				set(o, container+"/env", nil)
			}},
		// An optional reference compiles to its definition with "null"
		// added (loadDef's ~null): the same checks and messages as the
		// definition itself, closed in strict mode.
		{name: "optional reference of another type", kind: "Deployment",
			mutate: func(o map[string]any) { set(o, "/spec/strategy", "Recreate") },
			path:   "/spec/strategy", keyword: "type", message: "expected object, but got string"},
		{name: "unknown field under an optional reference", kind: "Deployment", strict: true,
			mutate: func(o map[string]any) { set(o, "/spec/strategy/rollingUpdat", map[string]any{}) },
			path:   "/spec/strategy/rollingUpdat", keyword: "additionalProperties", message: `unknown field "rollingUpdat"`},
		{name: "int-or-string percent and int", kind: "Deployment",
			mutate: func(o map[string]any) {
				set(o, "/spec/strategy/rollingUpdate/maxSurge", num("2"))
				set(o, "/spec/strategy/rollingUpdate/maxUnavailable", "10%")
			}},
	}
	for _, v := range Versions() {
		for _, strict := range []bool{false, true} {
			s, err := Load(v, strict)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cases {
				t.Run(fmt.Sprintf("%s/strict=%v/%s", v, strict, c.name), func(t *testing.T) {
					obj := validObject(t, c.kind)
					c.mutate(obj)
					vs, err := s.Validate(obj)
					if err != nil {
						t.Fatal(err)
					}
					wantInvalid := c.path != "" && (strict || !c.strict)
					if !wantInvalid {
						if len(vs) > 0 {
							t.Fatalf("want valid, got %v", vs)
						}
						return
					}
					if len(vs) != 1 {
						t.Fatalf("want one violation at %s, got %v", c.path, vs)
					}
					got := vs[0]
					if got.Path != c.path || got.Keyword != c.keyword || !strings.Contains(got.Message, c.message) {
						t.Errorf("got %+v, want path %s keyword %s message ~%q", got, c.path, c.keyword, c.message)
					}
				})
			}
		}
	}
}

// loadDef serves a definition with null allowed as NAME~null.
func TestNoDefinitionNameHasTheNullableSuffix(t *testing.T) {
	for _, v := range Versions() {
		s, err := Load(v, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range s.b.DefNames() {
			if strings.Contains(name, "~") {
				t.Errorf("%s: definition %q", v, name)
			}
		}
	}
}

func TestMultipleUnknownFields(t *testing.T) {
	s, err := Load(Newest(), true)
	if err != nil {
		t.Fatal(err)
	}
	obj := validObject(t, "Service")
	set(obj, "/spec/zeta", "x")
	set(obj, "/spec/alpha's", "x")
	set(obj, `/spec/quo"te`, "x")
	vs, err := s.Validate(obj)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range vs {
		got = append(got, v.String())
	}
	want := []string{
		`/spec/alpha's: unknown field "alpha's"`,
		`/spec/quo"te: unknown field "quo\"te"`,
		`/spec/zeta: unknown field "zeta"`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// Kinds that became GA after 1.31 are unknown in 1.31.
func TestNewKindsUnknownInOlderVersions(t *testing.T) {
	for _, k := range []struct{ apiVersion, kind, since string }{
		{"storage.k8s.io/v1", "VolumeAttributesClass", "1.34"},
		{"resource.k8s.io/v1", "ResourceClaim", "1.34"},
		{"networking.k8s.io/v1", "ServiceCIDR", "1.33"},
	} {
		for _, v := range Versions() {
			s, err := Load(v, true)
			if err != nil {
				t.Fatal(err)
			}
			sch, found, err := s.Schema(k.apiVersion, k.kind)
			if err != nil {
				t.Fatal(err)
			}
			if want := CompareVersions(v, k.since) >= 0; found != want || (sch != nil) != want {
				t.Errorf("%s: %s %s found=%v, want %v", v, k.apiVersion, k.kind, found, want)
			}
		}
	}
	s, _ := Load("1.31", true)
	obj := map[string]any{"apiVersion": "storage.k8s.io/v1", "kind": "VolumeAttributesClass", "metadata": map[string]any{"name": "x"}, "driverName": "d"}
	if _, err := s.Validate(obj); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("1.31 VolumeAttributesClass: %v", err)
	}
	s, _ = Load("1.34", true)
	if vs, err := s.Validate(obj); err != nil || len(vs) != 0 {
		t.Errorf("1.34 VolumeAttributesClass: %v %v", vs, err)
	}
}

func TestNamespaced(t *testing.T) {
	for _, v := range Versions() {
		s, err := Load(v, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			apiVersion, kind  string
			namespaced, known bool
		}{
			{"apps/v1", "Deployment", true, true},
			{"v1", "ConfigMap", true, true},
			{"v1", "Service", true, true},
			{"networking.k8s.io/v1", "Ingress", true, true},
			{"rbac.authorization.k8s.io/v1", "Role", true, true},
			{"v1", "Namespace", false, true},
			{"v1", "Node", false, true},
			{"v1", "PersistentVolume", false, true},
			{"rbac.authorization.k8s.io/v1", "ClusterRole", false, true},
			{"storage.k8s.io/v1", "StorageClass", false, true},
			{"apiextensions.k8s.io/v1", "CustomResourceDefinition", false, true},
			{"admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", false, true},
			{"v1", "DeleteOptions", false, false}, // not a resource
			{"v1", "ConfigMapList", false, false},
			{"monitoring.coreos.com/v1", "ServiceMonitor", false, false},
			{"apps/v1beta1", "Deployment", false, false}, // long gone
		} {
			ns, known := s.Namespaced(c.apiVersion, c.kind)
			if ns != c.namespaced || known != c.known {
				t.Errorf("%s: Namespaced(%s, %s) = %v, %v; want %v, %v", v, c.apiVersion, c.kind, ns, known, c.namespaced, c.known)
			}
		}
		// Every resource with schema has a known scope, and Kinds agrees.
		n := 0
		for _, k := range s.Kinds() {
			ns, known := s.Namespaced(k.APIVersion, k.Kind)
			if ns != k.Namespaced || known != k.NamespacedKnown {
				t.Errorf("%s: Kinds and Namespaced disagree on %s %s", v, k.APIVersion, k.Kind)
			}
			if known {
				n++
			}
		}
		if n < 60 {
			t.Errorf("%s: only %d kinds with a known scope", v, n)
		}
	}
}

func TestResource(t *testing.T) {
	for _, v := range Versions() {
		s, err := Load(v, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			apiVersion, kind, resource string
			namespaced, ok             bool
		}{
			{"apps/v1", "Deployment", "deployments", true, true},
			{"v1", "Endpoints", "endpoints", true, true}, // a plural no rule guesses
			{"networking.k8s.io/v1", "Ingress", "ingresses", true, true},
			{"networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true, true},
			{"v1", "Namespace", "namespaces", false, true},
			{"apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false, true},
			{"autoscaling/v1", "Scale", "", false, false}, // only a subresource's body
			{"policy/v1", "Eviction", "", false, false},
			{"v1", "DeleteOptions", "", false, false},
			{"monitoring.coreos.com/v1", "ServiceMonitor", "", false, false},
		} {
			r, ns, ok := s.Resource(c.apiVersion, c.kind)
			if r != c.resource || ns != c.namespaced || ok != c.ok {
				t.Errorf("%s: Resource(%s, %s) = %q, %v, %v; want %q, %v, %v", v, c.apiVersion, c.kind, r, ns, ok, c.resource, c.namespaced, c.ok)
			}
		}
	}
}

func TestEveryKindCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles every kind of every version")
	}
	for _, v := range Versions() {
		for _, strict := range []bool{false, true} {
			s, err := Load(v, strict)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range s.Kinds() {
				if _, found, err := s.Schema(k.APIVersion, k.Kind); !found || err != nil {
					t.Errorf("%s %s %s: found=%v %v", v, k.APIVersion, k.Kind, found, err)
				}
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	objs := readYAML(t, "testdata/valid.yaml")
	// A fresh Set, so that compilation itself races.
	b, err := loadBundle("1.33")
	if err != nil {
		t.Fatal(err)
	}
	s := newSet("1.33", true, b)
	var wg sync.WaitGroup
	schemas := make([]map[string]*jsonschema.Schema, 8)
	for g := range schemas {
		schemas[g] = map[string]*jsonschema.Schema{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range objs {
				obj := objs[(i+g)%len(objs)]
				vs, err := s.Validate(obj)
				if err != nil || len(vs) > 0 {
					t.Errorf("%s: %v %v", objectName(obj), vs, err)
				}
				sch, _, _ := s.Schema(obj["apiVersion"].(string), obj["kind"].(string))
				schemas[g][objectName(obj)] = sch
			}
		}()
	}
	wg.Wait()
	for g := 1; g < len(schemas); g++ {
		for k, sch := range schemas[g] {
			if schemas[0][k] != sch {
				t.Errorf("%s compiled more than once", k)
			}
		}
	}
}

func TestViolationsOfOtherErrors(t *testing.T) {
	if Violations(nil) != nil {
		t.Error("Violations(nil) != nil")
	}
	vs := Violations(errors.New("boom"))
	if len(vs) != 1 || vs[0].Message != "boom" {
		t.Errorf("got %v", vs)
	}
}

func TestBundleSizes(t *testing.T) {
	total := 0
	for _, v := range Versions() {
		data, err := dataFS.ReadFile("data/v" + v + ".json.gz")
		if err != nil {
			t.Fatal(err)
		}
		b, err := bundle.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%s): %d bytes compressed, %d kinds, %d definitions", v, b.Kubernetes, len(data), len(b.Kinds), len(b.DefNames()))
		total += len(data)
	}
	t.Logf("total %d bytes", total)
	if total > 6<<20 {
		t.Errorf("embedded schemas are %d bytes", total)
	}
}

// BenchmarkLoad measures decompressing and decoding one version's bundle
// (done once per process by Load).
func BenchmarkLoad(b *testing.B) {
	data, err := dataFS.ReadFile("data/v1.34.json.gz")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := bundle.Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFirstCompileDeployment measures the first Schema call for a
// Deployment on a fresh Set (compiling it and every definition it
// reaches).
func BenchmarkFirstCompileDeployment(b *testing.B) {
	bu, err := loadBundle("1.34")
	if err != nil {
		b.Fatal(err)
	}
	for _, strict := range []bool{false, true} {
		b.Run(fmt.Sprintf("strict=%v", strict), func(b *testing.B) {
			for b.Loop() {
				s := newSet("1.34", strict, bu)
				if _, _, err := s.Schema("apps/v1", "Deployment"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateDeployment(b *testing.B) {
	s, err := Load("1.34", true)
	if err != nil {
		b.Fatal(err)
	}
	var obj map[string]any
	for _, o := range readYAML(b, "testdata/valid.yaml") {
		if o["kind"] == "Deployment" {
			obj = o
		}
	}
	if vs, err := s.Validate(obj); err != nil || len(vs) > 0 {
		b.Fatal(vs, err)
	}
	b.ResetTimer()
	for b.Loop() {
		s.Validate(obj)
	}
}
