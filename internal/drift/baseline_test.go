package drift

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Two renders of one environment, before and after a change.
const beforeRender = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config-5f7k2dgh6m
  namespace: shop
data:
  LOG_LEVEL: info
  TIMEOUT: "30"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: nginx-conf
  namespace: shop
data:
  nginx.conf: |
    worker_processes 1;
---
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials-2t7h9m4c8b
  namespace: shop
type: Opaque
data:
  password: c3VwZXItc2VjcmV0LW9sZA==
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: shop
spec:
  clusterIP: 10.0.0.10
  ports:
  - port: 80
---
apiVersion: v1
kind: Service
metadata:
  name: legacy
  namespace: shop
spec:
  ports:
  - port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: example/api:1.0
        env:
        - name: DEBUG
          value: "0"
        envFrom:
        - configMapRef:
            name: app-config-5f7k2dgh6m
        - secretRef:
            name: db-credentials-2t7h9m4c8b
        resources:
          limits:
            memory: 256Mi
        readinessProbe:
          httpGet:
            path: /ready
            port: 80
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        volumeMounts:
        - name: conf
          mountPath: /etc/nginx/nginx.conf
          subPath: nginx.conf
      volumes:
      - name: conf
        configMap:
          name: nginx-conf
`

func afterRender(t *testing.T) string {
	return edit(t, beforeRender,
		"name: app-config-5f7k2dgh6m", "name: app-config-9m4c8hbk2t",
		"LOG_LEVEL: info", "LOG_LEVEL: debug",
		"worker_processes 1;", "worker_processes 2;",
		"name: db-credentials-2t7h9m4c8b", "name: db-credentials-8b4k6f2g9h",
		"c3VwZXItc2VjcmV0LW9sZA==", "c3VwZXItc2VjcmV0LW5ldw==",
		"  clusterIP: 10.0.0.10\n", "",
		"image: example/api:1.0", "image: example/api:1.1",
		`value: "0"`, `value: "1"`,
		"memory: 256Mi", "memory: 512Mi",
		"path: /ready", "path: /healthz",
		"name: app-config-5f7k2dgh6m", "name: app-config-9m4c8hbk2t",
		"name: db-credentials-2t7h9m4c8b", "name: db-credentials-8b4k6f2g9h",
		"apiVersion: v1\nkind: Service\nmetadata:\n  name: legacy\n  namespace: shop\nspec:\n  ports:\n  - port: 80\n---\n", "",
	) + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n"
}

func TestComparingTwoRendersReportsEveryChangeBothWays(t *testing.T) {
	r := mustCompare(t, afterRender(t), beforeRender, Options{Environment: "prod", Baseline: "HEAD~1"})
	checkOutline(t, outline(r, false), []string{
		`changed ConfigMap shop/app-config-9m4c8hbk2t renamed app-config-5f7k2dgh6m→app-config-9m4c8hbk2t rolls Deployment/api`,
		`~ data.LOG_LEVEL: "info" → "debug"`,
		`changed ConfigMap shop/nginx-conf`,
		`~ data["nginx.conf"]: "worker_processes 1;\n" → "worker_processes 2;\n"`,
		`changed Deployment shop/api`,
		`~ spec.template.spec.containers[name=api].env[name=DEBUG].value: "0" → "1"`,
		`~ spec.template.spec.containers[name=api].envFrom[0].configMapRef.name: "app-config-5f7k2dgh6m" → "app-config-9m4c8hbk2t" (follows ConfigMap rename)`,
		`~ spec.template.spec.containers[name=api].envFrom[1].secretRef.name: "db-credentials-2t7h9m4c8b" → "db-credentials-8b4k6f2g9h" (follows Secret rename)`,
		`~ spec.template.spec.containers[name=api].image: "example/api:1.0" → "example/api:1.1"`,
		`~ spec.template.spec.containers[name=api].readinessProbe.httpGet.path: "/ready" → "/healthz"`,
		`~ spec.template.spec.containers[name=api].resources.limits.memory: "256Mi" → "512Mi"`,
		`changed Secret shop/db-credentials-8b4k6f2g9h renamed db-credentials-2t7h9m4c8b→db-credentials-8b4k6f2g9h rolls Deployment/api`,
		`~ data.password: (secret) → (secret)`,
		// A render's clusterIP was declared: removing it is a change.
		`changed Service shop/api`,
		`- spec.clusterIP: "10.0.0.10"`,
		`removed Service shop/legacy`,
		`added ServiceAccount shop/api`,
	})
	s := r.Summary
	if s.Changed != 5 || s.Added != 1 || s.Removed != 1 || s.Unchanged != 1 || !r.HasDrift() || r.Baseline != "HEAD~1" {
		t.Errorf("summary %+v", s)
	}
}

func TestAgainstABaselineEveryFieldOfItWasDeclared(t *testing.T) {
	before := `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {team: a, tier: b}
data: {A: "1", B: "2"}
`
	after := `apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  labels: {team: a}
data: {A: "1"}
`
	checkOutline(t, outline(mustCompare(t, after, before, Options{Baseline: "x"}), false), []string{
		`changed ConfigMap c`,
		`- data.B: "2"`,
		`- metadata.labels.tier: "b"`,
	})
	// The same objects as a cluster: a label only live is not drift.
	checkOutline(t, outline(mustCompare(t, after, before, Options{}), false), []string{
		`changed ConfigMap c`,
		`! data.B: "2"`,
	})
}

func TestEveryObjectOfANewEnvironmentIsAdded(t *testing.T) {
	r := mustCompare(t, beforeRender, "", Options{Baseline: "HEAD~1"})
	if r.Summary.Added != r.Summary.Objects || r.Summary.Objects != 7 {
		t.Errorf("summary %+v", r.Summary)
	}
	if r.Rollout != nil {
		t.Errorf("a new environment rolls nothing, got %+v", r.Rollout)
	}
}

func TestRolloutImpactSaysWhyEachWorkloadRolls(t *testing.T) {
	r := mustCompare(t, afterRender(t), beforeRender, Options{Baseline: "HEAD~1"})
	if r.Rollout == nil || len(r.Rollout.Restarts) != 1 {
		t.Fatalf("rollout %+v", r.Rollout)
	}
	rs := r.Rollout.Restarts[0]
	var got []string
	for _, x := range rs.Reasons {
		got = append(got, reasonText(x, func(s string) string { return "<" + s + ">" }))
	}
	checkOutline(t, got, []string{
		`env <DEBUG> of <api>`,
		`ConfigMap <app-config> (<LOG_LEVEL>)`,
		`Secret <db-credentials> (<password>)`,
		`image of <api> <example/api:1.0> → <example/api:1.1>`,
		`readinessProbe of <api>`,
		`resources of <api>`,
	})
	if rs.Workload.Name != "api" {
		t.Errorf("workload %v", rs.Workload)
	}
	at := r.Rollout.Attention
	if len(at) != 1 || at[0].Workload.Name != "web" || at[0].Object != "ConfigMap nginx-conf" ||
		fmt.Sprint(at[0].Keys) != "[nginx.conf]" || fmt.Sprint(at[0].Reads) != "[subPath]" {
		t.Errorf("attention %+v", at)
	}
}

func TestReadsOfAFixedNameConfigMap(t *testing.T) {
	spec := parseTree(t, `
containers:
- name: a
  env:
  - name: X
    valueFrom: {configMapKeyRef: {name: cfg, key: x}}
  volumeMounts:
  - {name: whole, mountPath: /etc/cfg}
  - {name: one, mountPath: /etc/one.conf, subPath: one.conf}
volumes:
- {name: whole, configMap: {name: cfg}}
- name: one
  projected:
    sources:
    - configMap: {name: cfg}
`)
	if got := fmt.Sprint(readsOf(spec, "ConfigMap", "cfg")); got != "[env subPath volume]" {
		t.Errorf("reads %s", got)
	}
	if got := readsOf(spec, "Secret", "cfg"); len(got) != 0 {
		t.Errorf("a Secret of the same name: %v", got)
	}
}

func parseTree(t *testing.T, y string) map[string]any {
	t.Helper()
	n := parseObjects(t, y)
	m, _ := fromYAML(n[0].YNode()).(map[string]any)
	return m
}

func TestBaselinePrintersLeadWithTheRolloutAndHideSecrets(t *testing.T) {
	r := mustCompare(t, afterRender(t), beforeRender, Options{Environment: "prod", Baseline: "HEAD~1"})
	for _, format := range Formats() {
		var b bytes.Buffer
		if err := Write(&b, format, []*Report{r}, WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		for _, v := range []string{"super-secret-old", "super-secret-new"} {
			for _, enc := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v)), fmt.Sprint([]byte(v))} {
				if strings.Contains(out, enc) {
					t.Errorf("%s output shows a secret value (%q)", format, enc)
				}
			}
		}
		switch format {
		case "markdown":
			if !strings.HasPrefix(out, "### prod against HEAD~1\n\n**Changes:** 5 changed, 1 added, 1 removed, 1 unchanged") {
				t.Errorf("markdown heading:\n%s", out)
			}
			if i, j := strings.Index(out, "**Rollout impact**"), strings.Index(out, "| Status |"); i < 0 || i > j {
				t.Errorf("markdown: the rollout impact is not first:\n%s", out)
			}
			if !strings.Contains(out, ":warning: `apps/v1 Deployment shop/web` reads ConfigMap `nginx-conf` (changed: `nginx.conf`) by a fixed name") {
				t.Errorf("markdown: no attention line:\n%s", out)
			}
		case "text":
			if !strings.HasPrefix(out, "rollout impact:\n  apps/v1 Deployment shop/api rolls: env DEBUG of api, ConfigMap app-config (LOG_LEVEL), Secret db-credentials (password), image of api example/api:1.0 → example/api:1.1, readinessProbe of api, resources of api\n") {
				t.Errorf("text:\n%s", out)
			}
			if !strings.Contains(out, "prod against HEAD~1: 5 changed, 1 added, 1 removed, 1 unchanged (8 objects); 2 renamed, 1 workload will roll") {
				t.Errorf("text summary:\n%s", out)
			}
		case "json":
			var doc struct {
				Drift        bool
				Environments []struct {
					Baseline string
					Rollout  Rollout
				}
			}
			if err := json.Unmarshal(b.Bytes(), &doc); err != nil || !doc.Drift || doc.Environments[0].Baseline != "HEAD~1" || len(doc.Environments[0].Rollout.Restarts) != 1 {
				t.Errorf("json: %v\n%s", err, out)
			}
		}
	}
}

func TestAnIdenticalReportHasNoChanges(t *testing.T) {
	r := IdenticalReport("dev", "HEAD~1", 12)
	if r.HasDrift() {
		t.Error("identical report has drift")
	}
	var b bytes.Buffer
	if err := Write(&b, "text", []*Report{r}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != "dev against HEAD~1: no changes (12 objects)\n" {
		t.Errorf("text: %q", got)
	}
}
