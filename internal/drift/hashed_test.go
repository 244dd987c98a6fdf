package drift

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/api/hasher"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

func TestHashSuffixMatchesKustomizeHasher(t *testing.T) {
	var h hasher.Hasher
	seen := map[rune]bool{}
	for i := range 2000 {
		kind := "ConfigMap"
		if i%2 == 1 {
			kind = "Secret"
		}
		node, err := yaml.Parse(fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: app-config\ndata:\n  KEY: value-%d\n", kind, i))
		if err != nil {
			t.Fatal(err)
		}
		hash, err := h.Hash(node)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range hash {
			seen[r] = true
		}
		base, ok := hashedBase("app-config-" + hash)
		if !ok || base != "app-config" {
			t.Fatalf("hashedBase(app-config-%s) = %q, %v; want app-config, true", hash, base, ok)
		}
	}
	// 2000 hashes use every letter of the alphabet, and nothing else.
	if len(seen) != 16 {
		t.Errorf("hashes used %d distinct characters, want 16", len(seen))
	}
	for _, name := range []string{"app-config", "api", "redis-deployment", "app-config-abcdefghij", "app-config-9m4c8hbk2", "-9m4c8hbk2t"} {
		if _, ok := hashedBase(name); ok {
			t.Errorf("hashedBase(%q) says hashed", name)
		}
	}
}

const (
	hashNew   = "9m4c8hbk2t"
	hashOld   = "5f7k2dgh6m"
	hashOlder = "b8t7mk4g2c"
)

func configMap(name, created, flags string) string {
	s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: shop\n  labels:\n    env: staging\n"
	if created != "" {
		s += "  creationTimestamp: \"" + created + "\"\n"
	}
	s += "data:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: |\n" + indent(flags, "    ")
	return s
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "")
}

const flagsOld = `{
  "newCheckout": false,
  "guestCheckout": true,
  "recommendationsV2": true,
  "expressShipping": false,
  "wishlistSharing": false
}
`

const flagsNew = `{
  "newCheckout": true,
  "guestCheckout": true,
  "recommendationsV2": true,
  "expressShipping": false,
  "wishlistSharing": false
}
`

func apiDeployment(cm string) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels:
    env: staging
spec:
  template:
    spec:
      containers:
      - name: api
        image: shop/api:1.0
        envFrom:
        - configMapRef:
            name: ` + cm + `
      volumes:
      - name: config
        projected:
          sources:
          - configMap:
              name: ` + cm + `
`
}

func backupCronJob(cm string) string {
	return `apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
  namespace: shop
  labels:
    env: staging
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          containers:
          - name: backup
            image: shop/backup:1.0
            env:
            - name: LOG_LEVEL
              valueFrom:
                configMapKeyRef:
                  name: ` + cm + `
                  key: LOG_LEVEL
`
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    env: staging
spec:
  template:
    spec:
      containers:
      - name: web
        image: shop/web:1.0
`

func TestHashedGenerators(t *testing.T) {
	cmNew, cmOld, cmOlder := "app-config-"+hashNew, "app-config-"+hashOld, "app-config-"+hashOlder
	desired := docs(configMap(cmNew, "", flagsNew), apiDeployment(cmNew), backupCronJob(cmNew), webDeployment)
	tests := []struct {
		name string
		live string
		opts Options
		want []string
	}{
		{
			name: "a regenerated ConfigMap is one change by base name, with the workloads that roll",
			live: docs(configMap(cmOld, "2025-01-02T00:00:00Z", flagsOld), apiDeployment(cmOld), backupCronJob(cmOld), webDeployment),
			want: []string{
				"changed ConfigMap shop/" + cmNew + " renamed " + cmOld + "→" + cmNew + " rolls CronJob/backup rolls Deployment/api",
				`~ data.FEATURE_FLAGS: "{\n  \"newCheckout\": false,\n  \"guestCheckout\": true,\n  \"recommendationsV2\": true,\n  \"expressShipping\": false,\n  \"wishlistSharing\": false\n}\n" → "{\n  \"newCheckout\": true,\n  \"guestCheckout\": true,\n  \"recommendationsV2\": true,\n  \"expressShipping\": false,\n  \"wishlistSharing\": false\n}\n"`,
				"changed CronJob shop/backup",
				`~ spec.jobTemplate.spec.template.spec.containers[name=backup].env[name=LOG_LEVEL].valueFrom.configMapKeyRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].envFrom[0].configMapRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				`~ spec.template.spec.volumes[name=config].projected.sources[0].configMap.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
			},
		},
		{
			name: "the live generation the workloads reference is paired, not the newest",
			live: docs(configMap(cmOld, "2025-01-02T00:00:00Z", flagsNew), configMap(cmOlder, "2025-03-01T00:00:00Z", flagsOld), apiDeployment(cmOld), backupCronJob(cmOld), webDeployment),
			want: []string{
				"changed ConfigMap shop/" + cmNew + " renamed " + cmOld + "→" + cmNew + " rolls CronJob/backup rolls Deployment/api",
				"changed CronJob shop/backup",
				`~ spec.jobTemplate.spec.template.spec.containers[name=backup].env[name=LOG_LEVEL].valueFrom.configMapKeyRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].envFrom[0].configMapRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				`~ spec.template.spec.volumes[name=config].projected.sources[0].configMap.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
			},
		},
		{
			name: "old generations left behind are orphans only when the selector selects them",
			live: docs(configMap(cmNew, "2025-03-01T00:00:00Z", flagsNew), configMap(cmOld, "2025-01-02T00:00:00Z", flagsOld), apiDeployment(cmNew), backupCronJob(cmNew), webDeployment),
			opts: Options{Selector: map[string]string{"env": "staging"}},
			want: []string{"orphaned ConfigMap shop/" + cmOld + " superseded by " + cmNew},
		},
		{
			name: "old generations left behind are not reported without a selector",
			live: docs(configMap(cmNew, "2025-03-01T00:00:00Z", flagsNew), configMap(cmOld, "2025-01-02T00:00:00Z", flagsOld), apiDeployment(cmNew), backupCronJob(cmNew), webDeployment),
			want: nil,
		},
		{
			name: "workloads still on the old generation follow the rename when the new one is live already",
			live: docs(configMap(cmNew, "2025-03-01T00:00:00Z", flagsNew), configMap(cmOld, "2025-01-02T00:00:00Z", flagsOld), apiDeployment(cmOld), backupCronJob(cmNew), webDeployment),
			want: []string{
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].envFrom[0].configMapRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				`~ spec.template.spec.volumes[name=config].projected.sources[0].configMap.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
			},
		},
		{
			name: "without any live generation the hashed ConfigMap is missing",
			live: docs(apiDeployment(cmNew), backupCronJob(cmNew), webDeployment),
			want: []string{"missing ConfigMap shop/" + cmNew},
		},
		{
			name: "a key removed in the new generation is drift even without evidence of an earlier apply",
			live: docs(strings.Replace(configMap(cmOld, "", flagsNew), "\ndata:\n", "\ndata:\n  OLD_KEY: x\n", 1), apiDeployment(cmOld), backupCronJob(cmOld), webDeployment),
			want: []string{
				"changed ConfigMap shop/" + cmNew + " renamed " + cmOld + "→" + cmNew + " rolls CronJob/backup rolls Deployment/api",
				`- data.OLD_KEY: "x"`,
				"changed CronJob shop/backup",
				`~ spec.jobTemplate.spec.template.spec.containers[name=backup].env[name=LOG_LEVEL].valueFrom.configMapKeyRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].envFrom[0].configMapRef.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
				`~ spec.template.spec.volumes[name=config].projected.sources[0].configMap.name: "` + cmOld + `" → "` + cmNew + `" (follows ConfigMap rename)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCompare(t, desired, tt.live, tt.opts)
			checkOutline(t, outline(r, false), tt.want)
		})
	}
}

func TestRenamedConfigMapCarriesAUnifiedDiff(t *testing.T) {
	cmNew, cmOld := "app-config-"+hashNew, "app-config-"+hashOld
	r := mustCompare(t, configMap(cmNew, "", flagsNew), configMap(cmOld, "", flagsOld), Options{})
	if len(r.Objects) != 1 || len(r.Objects[0].Changes) != 1 {
		t.Fatalf("report: %v", outline(r, true))
	}
	want := `@@ -1,5 +1,5 @@
 {
-  "newCheckout": false,
+  "newCheckout": true,
   "guestCheckout": true,
   "recommendationsV2": true,
   "expressShipping": false,
`
	if got := r.Objects[0].Changes[0].TextDiff; got != want {
		t.Errorf("TextDiff:\n%s\nwant:\n%s", got, want)
	}
	if r.Summary.Renamed != 1 || r.Summary.Rolling != 0 {
		t.Errorf("summary %+v", r.Summary)
	}
}

func TestRenamedPullSecretFollowsTheRename(t *testing.T) {
	secret := func(name string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata:\n  name: " + name + "\n  namespace: shop\ntype: kubernetes.io/dockerconfigjson\ndata:\n  .dockerconfigjson: " + name + "\n"
	}
	deploy := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  template:\n    spec:\n      imagePullSecrets:\n      - name: " + name + "\n      containers:\n      - name: api\n        image: a\n"
	}
	n, o := "registry-"+hashNew, "registry-"+hashOld
	r := mustCompare(t, docs(secret(n), deploy(n)), docs(secret(o), deploy(o)), Options{})
	checkOutline(t, outline(r, false), []string{
		"changed Deployment shop/api",
		`~ spec.template.spec.imagePullSecrets[name=` + n + `].name: "` + o + `" → "` + n + `" (follows Secret rename)`,
		"changed Secret shop/" + n + " renamed " + o + "→" + n + " rolls Deployment/api",
		`~ data[".dockerconfigjson"]: (secret) → (secret)`,
	})
}
