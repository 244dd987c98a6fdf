package drift

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// fleet returns n desired Deployments, ConfigMaps and Services (n objects
// in all) and their live counterparts as the API server returns them
// (defaults, status, managedFields, last-applied-configuration), with drift
// in every tenth object.
func fleet(tb testing.TB, n int) (desired, live []*yaml.RNode) {
	tb.Helper()
	var d, l []string
	for i := range n {
		name := fmt.Sprintf("svc-%03d", i)
		switch i % 3 {
		case 0:
			dd := strings.ReplaceAll(desiredDeployment, "name: api\n", "name: "+name+"\n")
			ll := strings.ReplaceAll(liveDeployment, "name: api\n", "name: "+name+"\n")
			if i%10 == 0 {
				ll = strings.Replace(ll, "image: shop/api:1.0", "image: shop/api:0.9", 1)
			}
			d, l = append(d, dd), append(l, ll)
		case 1:
			cm := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s-config-9m4c8hbk2t\n  namespace: shop\ndata:\n  LOG_LEVEL: info\n  settings.yaml: |\n%s", name, indent(strings.Repeat("key: value\n", 20), "    "))
			lc := strings.Replace(cm, "namespace: shop\n", "namespace: shop\n  uid: x\n  resourceVersion: \"1\"\n  creationTimestamp: \"2025-01-01T00:00:00Z\"\n", 1)
			if i%10 == 1 {
				lc = strings.Replace(lc, "LOG_LEVEL: info", "LOG_LEVEL: debug", 1)
			}
			d, l = append(d, cm), append(l, lc)
		default:
			svc := fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: shop\nspec:\n  selector:\n    app: %s\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n", name, name)
			ls := strings.Replace(svc, "spec:\n", "spec:\n  clusterIP: 10.0.0.1\n  clusterIPs: [10.0.0.1]\n  type: ClusterIP\n  sessionAffinity: None\n", 1)
			ls = strings.Replace(ls, "    port: 80\n", "    port: 80\n    protocol: TCP\n", 1)
			d, l = append(d, svc), append(l, ls)
		}
	}
	return parseObjects(tb, docs(d...)), parseObjects(tb, docs(l...))
}

func BenchmarkCompare500(b *testing.B) {
	desired, live := fleet(b, 500)
	opts := Options{Selector: map[string]string{"app": "api"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compare(desired, live, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCompareFiveHundredObjects checks the fleet that BenchmarkCompare500
// times (no timing asserts in tests: the benchmark measures speed).
func TestCompareFiveHundredObjects(t *testing.T) {
	desired, live := fleet(t, 500)
	r, err := Compare(desired, live, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Objects != 500 || r.Summary.Changed != 34 {
		t.Errorf("summary %+v", r.Summary)
	}
}

// Compare shares nothing between calls: environments are compared in
// parallel (run with -race).
func TestCompareIsSafeForConcurrentUse(t *testing.T) {
	desired, live := fleet(t, 60)
	done := make(chan *Report)
	for range 4 {
		go func() {
			r, err := Compare(desired, live, Options{Selector: map[string]string{}})
			if err != nil {
				t.Error(err)
			}
			done <- r
		}()
	}
	first := <-done
	for range 3 {
		if r := <-done; r.Summary != first.Summary {
			t.Errorf("summaries differ: %+v, %+v", r.Summary, first.Summary)
		}
	}
}
