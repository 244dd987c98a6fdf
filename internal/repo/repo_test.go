package repo

import (
	"errors"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func fsWith(t *testing.T, files map[string]string) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, c := range files {
		if err := fsys.WriteFile(p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

const kust = "resources: []\n"

func TestWithoutConfigEveryEnvironmentsDirWithAKustomizationIsAnEnvironment(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/environments/prod/kustomization.yaml": kust,
		"/r/environments/dev/kustomization.yml":   kust,
		"/r/environments/qa/Kustomization":        kust,
		"/r/environments/notes/README.md":         "no kustomization here",
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(r.Names(), ","); got != "dev,prod,qa" {
		t.Fatalf("Names() = %s", got)
	}
}

func TestConfigListsEnvironmentsLaidOutDifferently(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/envctl.yaml": `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
- name: staging
  path: apps/staging
  context: kind-staging
  namespace: shop-staging
  kubeVersion: v1.36.3
- name: production
  path: overlays/production
`,
		"/r/apps/staging/kustomization.yaml":         kust,
		"/r/overlays/production/kustomization.yaml":  kust,
		"/r/environments/ignored/kustomization.yaml": kust,
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	e, ok := r.Lookup("staging")
	if !ok || e.Path != "/r/apps/staging" || e.Context != "kind-staging" || e.Namespace != "shop-staging" || e.KubeVersion != "v1.36.3" {
		t.Fatalf("staging = %+v", e)
	}
	if got := strings.Join(r.Names(), ","); got != "production,staging" {
		t.Fatalf("Names() = %s (envctl.yaml must replace discovery)", got)
	}
}

func TestBadConfigNamesTheFileLineAndKey(t *testing.T) {
	header := "apiVersion: envctl.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"unknown top-level key", header + "enviroments: []\n", []string{"envctl.yaml:3: enviroments: unknown key (known keys: apiVersion, kind, environments, ignore, crds, contracts, policies, rules, compare, drift, secrets)"}},
		{"unknown environment key", header + "environments:\n- name: a\n  path: a\n  contxt: x\n", []string{"envctl.yaml:6: contxt: unknown key", "context"}},
		{"duplicate key", header + "environments:\n- name: a\n  name: b\n  path: a\n", []string{"envctl.yaml:5:", `"name" already defined at line 4`}},
		{"duplicate environment name", header + "environments:\n- name: a\n  path: a\n- name: a\n  path: a\n", []string{"envctl.yaml:6", "environments[1].name", `duplicate environment name "a"`}},
		{"missing header", "environments: []\n", []string{"apiVersion", `want "envctl.dev/v1alpha1"`}},
		{"wrong kind", "apiVersion: envctl.dev/v1alpha1\nkind: Configuration\n", []string{"envctl.yaml:2", "kind"}},
		{"broken YAML", header + "environments: [\n", []string{"envctl.yaml:3: did not find expected node content"}},
		{"missing name", header + "environments:\n- path: a\n", []string{"environments[0].name", "is required"}},
		{"missing path", header + "environments:\n- name: a\n", []string{"environments[0].path", "is required"}},
		{"name unusable as a file name", header + "environments:\n- name: a/b\n  path: a\n", []string{"environments[0].name", "not a valid environment name"}},
		{"kubeVersion without schemas", header + "environments:\n- name: a\n  path: a\n  kubeVersion: \"1.30\"\n", []string{"envctl.yaml:6: environments[0].kubeVersion: no schemas for Kubernetes version \"1.30\" (available: 1.31,", "1.37)"}},
		{"kubeVersion that is no version", header + "environments:\n- name: a\n  path: a\n  kubeVersion: latest\n", []string{"envctl.yaml:6: environments[0].kubeVersion:", "is not MAJOR.MINOR"}},
		{"unknown drift metadata mode", header + "environments:\n- name: a\n  path: a\ndrift:\n  metadata: lax\n", []string{"envctl.yaml:7: drift.metadata:", `got "lax"; the one value is "strict"`}},
		{"empty drift manager", header + "environments:\n- name: a\n  path: a\ndrift:\n  handEditManagers: [k9s, \"\"]\n", []string{"envctl.yaml:7: drift.handEditManagers[1]: is empty"}},
		{"unknown drift key", header + "environments:\n- name: a\n  path: a\ndrift:\n  handEditors: [k9s]\n", []string{"envctl.yaml:7: handEditors: unknown key", "handEditManagers"}},
		{"unknown environment secrets key", header + "environments:\n- name: a\n  path: a\n  secrets:\n    prod: true\n", []string{"envctl.yaml:7: prod: unknown key (known keys: production, plaintext)"}},
		{"unknown plaintext value", header + "environments:\n- name: a\n  path: a\n  secrets:\n    plaintext: yes\n", []string{"envctl.yaml:7: environments[0].secrets.plaintext:", `the one value is "allowed"`}},
		{"plaintext in production", header + "environments:\n- name: a\n  path: a\n  secrets: {production: true, plaintext: allowed}\n", []string{"envctl.yaml:6: environments[0].secrets.plaintext: a production environment cannot"}},
		{"unknown secrets key", header + "environments:\n- name: a\n  path: a\nsecrets:\n  shared: []\n", []string{"envctl.yaml:7: shared: unknown key (known keys: sharedRecipients)"}},
		{"shared recipient that is no key", header + "environments:\n- name: a\n  path: a\nsecrets:\n  sharedRecipients:\n  - {recipient: ci-key, reason: ci}\n", []string{"envctl.yaml:8: secrets.sharedRecipients[0].recipient:", "not an age public key"}},
		{"shared recipient without a reason", header + "environments:\n- name: a\n  path: a\nsecrets:\n  sharedRecipients:\n  - recipient: age1xyz\n", []string{"envctl.yaml:8: secrets.sharedRecipients[0]: has no reason"}},
		{"empty file", "", []string{"envctl.yaml", "empty"}},
		{"two documents", header + "---\n" + header, []string{"more than one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fsWith(t, map[string]string{"/r/envctl.yaml": tt.cfg, "/r/a/kustomization.yaml": kust})
			_, err := Open(fsys, "/r")
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigDirectoryProblemsNameTheKey(t *testing.T) {
	cfg := "apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n- name: a\n  path: a\n- name: b\n  path: missing\n"
	fsys := fsWith(t, map[string]string{"/r/envctl.yaml": cfg, "/r/a/kustomization.yaml": kust})
	_, err := Open(fsys, "/r")
	if err == nil || !strings.Contains(err.Error(), "envctl.yaml:6: environments[1].path") || !strings.Contains(err.Error(), `"missing"`) {
		t.Fatalf("err = %v", err)
	}
	fsys = fsWith(t, map[string]string{"/r/envctl.yaml": cfg, "/r/a/kustomization.yaml": kust, "/r/missing/README": "x"})
	_, err = Open(fsys, "/r")
	if err == nil || !strings.Contains(err.Error(), "holds no kustomization") {
		t.Fatalf("err = %v", err)
	}
}

func TestFindRootWalksUpToEnvctlYAML(t *testing.T) {
	fsys := fsWith(t, map[string]string{"/r/envctl.yaml": "x", "/r/a/b/c/file": "x"})
	if got := FindRoot(fsys, "/r/a/b/c"); got != "/r" {
		t.Errorf("FindRoot = %s, want /r", got)
	}
	fsys = fsWith(t, map[string]string{"/q/a/file": "x"})
	if got := FindRoot(fsys, "/q/a"); got != "/q/a" {
		t.Errorf("FindRoot without envctl.yaml = %s, want the start directory", got)
	}
}

func TestResolve(t *testing.T) {
	fsys := fsWith(t, map[string]string{
		"/r/environments/dev/kustomization.yaml":  kust,
		"/r/environments/prod/kustomization.yaml": kust,
		"/r/other/overlay/kustomization.yaml":     kust,
		"/r/plain/README":                         "x",
	})
	r, err := Open(fsys, "/r")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := r.Resolve(fsys, "/r", "dev"); err != nil || e.Name != "dev" {
		t.Errorf("dev: %+v %v", e, err)
	}
	if e, err := r.Resolve(fsys, "/r", "./other/overlay"); err != nil || e.Name != "overlay" || e.Path != "/r/other/overlay" {
		t.Errorf("path: %+v %v", e, err)
	}
	if e, err := r.Resolve(fsys, "/r/environments", "./prod"); err != nil || e.Name != "prod" {
		t.Errorf("a path to a registered environment is that environment: %+v %v", e, err)
	}
	_, err = r.Resolve(fsys, "/r", "stagin")
	var ue *UnknownEnvironmentError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "known environments: dev, prod") {
		t.Errorf("unknown: %v", err)
	}
	if _, err := r.Resolve(fsys, "/r", "./plain"); err == nil || !strings.Contains(err.Error(), "holds no kustomization") {
		t.Errorf("no kustomization: %v", err)
	}
	if _, err := r.Resolve(fsys, "/r", "./nope"); err == nil || !strings.Contains(err.Error(), "no such directory") {
		t.Errorf("missing dir: %v", err)
	}
}

func TestDriftSettingsDecode(t *testing.T) {
	cfg := `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
- name: a
  path: a
  selector: {app.kubernetes.io/part-of: shop}
  ignore:
  - kind: Deployment
    path: /spec/template/metadata/annotations
ignore:
- apiVersion: autoscaling/v2
  name: "api-*"
  path: /spec/minReplicas
`
	c, err := ParseConfig("envctl.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if c.Environments[0].Selector["app.kubernetes.io/part-of"] != "shop" || len(c.Environments[0].Ignore) != 1 || c.Ignore[0].Name != "api-*" {
		t.Fatalf("decoded %+v", c)
	}
}

func TestBadIgnoreRulesNameTheLine(t *testing.T) {
	header := "apiVersion: envctl.dev/v1alpha1\nkind: Config\n"
	for name, tt := range map[string]struct{ cfg, want string }{
		"a path that is not a pointer": {header + "ignore:\n- kind: Deployment\n  path: spec.replicas\n", "envctl.yaml:4: ignore[0].path: \"spec.replicas\" is not a JSON pointer"},
		"a bad glob":                   {header + "ignore:\n- name: \"[a\"\n  path: /x\n", "envctl.yaml:4: ignore[0].name"},
		"a rule that selects all":      {header + "ignore:\n- path: \"\"\n", "selects every field of every object"},
		"an unknown key in a rule":     {header + "ignore:\n- kind: X\n  pointer: /x\n", "envctl.yaml:5: pointer: unknown key (known keys: apiVersion, kind, namespace, name, path)"},
		"a bad rule in an environment": {header + "environments:\n- name: a\n  path: a\n  ignore:\n  - path: x\n", "envctl.yaml:7: environments[0].ignore[0].path"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("envctl.yaml", []byte(tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestValidationSettingsDecode(t *testing.T) {
	cfg := `apiVersion: envctl.dev/v1alpha1
kind: Config
environments:
- name: dev
  path: a
- name: prod
  path: a
crds: [crds/]
contracts:
- configMap: app-config
  schema: schemas/app-config.json
  keys:
  - key: flags.json
    schema: schemas/flags.json
  - key: app.conf
    format: properties
    schema: schemas/conf.json
    optional: true
- secret: db
  environments: [prod]
  schema: schemas/db.json
policies:
- name: strict
  environments: [prod]
  rules: [min-replicas, required-labels, probes]
  params:
    minReplicas: 3
    requiredLabels: [app.kubernetes.io/name]
  exclude:
  - rules: [min-replicas]
    kind: StatefulSet
    name: postgres
    reason: a single primary
rules:
- id: probes
  description: Containers declare a readiness probe
  kinds: [Deployment, apps/v1/StatefulSet]
  names: ["api*"]
  schema: policies/probes.json
`
	c, err := ParseConfig("envctl.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.CRDs) != 1 || c.Contracts[0].Kind() != "ConfigMap" || c.Contracts[1].Kind() != "Secret" || c.Contracts[1].Name() != "db" ||
		!c.Contracts[0].Keys[1].Optional || c.Policies[0].Params.MinReplicas != 3 || c.Policies[0].Exclude[0].Name != "postgres" || c.Rules[0].Kinds[1] != "apps/v1/StatefulSet" {
		t.Fatalf("decoded %+v", c)
	}
	for key, want := range map[string]int{
		"crds[0]":                     8,
		"contracts[0]":                10,
		"contracts[0].keys[1].format": 16,
		"policies[0].rules[2]":        25,
		"policies[0].exclude[0].name": 32,
		"rules[0].schema":             39,
		"rules[0].nosuchkey":          35,
	} {
		if got := c.Line(key); got != want {
			t.Errorf("Line(%q) = %d, want %d", key, got, want)
		}
	}
	if err := c.Errorf("policies[0].rules[2]", "unknown rule"); err.Error() != "envctl.yaml:25: policies[0].rules[2]: unknown rule" {
		t.Errorf("Errorf = %v", err)
	}
}

func TestBadValidationSettingsNameTheLine(t *testing.T) {
	header := "apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n  path: a\n"
	for name, tt := range map[string]struct{ cfg, want string }{
		"an unknown key in a contract":      {header + "contracts:\n- configMap: x\n  schemas: s.json\n", "envctl.yaml:8: schemas: unknown key (known keys: configMap, secret, environments, schema, keys)"},
		"a contract naming nothing":         {header + "contracts:\n- schema: s.json\n", "envctl.yaml:7: contracts[0]: names no object"},
		"a contract naming two objects":     {header + "contracts:\n- configMap: x\n  secret: y\n  schema: s.json\n", "names both"},
		"a contract with no schema":         {header + "contracts:\n- configMap: x\n", "has no schema and no keys"},
		"a contract for an unknown env":     {header + "contracts:\n- configMap: x\n  schema: s.json\n  environments: [dev, prd]\n", `envctl.yaml:9: contracts[0].environments[1]: unknown environment "prd" (environments: dev)`},
		"a key of unknown format":           {header + "contracts:\n- configMap: x\n  keys:\n  - key: a.conf\n    schema: s.json\n", `envctl.yaml:9: contracts[0].keys[0].format: the format of key "a.conf" cannot be told from its name`},
		"a key with a bad format":           {header + "contracts:\n- configMap: x\n  keys:\n  - key: a\n    format: toml\n    schema: s.json\n", `unknown format "toml" (formats: json, yaml, properties, env)`},
		"an unknown key in a policy":        {header + "policies:\n- name: p\n  rule: [x]\n", "envctl.yaml:8: rule: unknown key (known keys: name, environments, rules, params, exclude)"},
		"an unknown param":                  {header + "policies:\n- name: p\n  rules: [x]\n  params:\n    replicas: 3\n", "envctl.yaml:10: replicas: unknown key (known keys: minReplicas, requiredLabels)"},
		"a policy without rules":            {header + "policies:\n- name: p\n", "policies[0].rules: is empty"},
		"duplicate policies":                {header + "policies:\n- name: p\n  rules: [x]\n- name: p\n  rules: [x]\n", "envctl.yaml:9: policies[1].name: duplicate policy name"},
		"an exclusion without reason":       {header + "policies:\n- name: p\n  rules: [x]\n  exclude:\n  - kind: Pod\n", "envctl.yaml:10: policies[0].exclude[0]: has no reason"},
		"an exclusion of a rule not listed": {header + "policies:\n- name: p\n  rules: [x]\n  exclude:\n  - kind: Pod\n    rules: [y]\n    reason: r\n", `policies[0].exclude[0].rules[0]: rule "y" is not one of policy "p"'s rules (x)`},
		"a custom rule with a bad id":       {header + "rules:\n- id: No_Caps\n  description: d\n  kinds: [Pod]\n  schema: s.json\n", "envctl.yaml:7: rules[0].id"},
		"a custom rule without kinds":       {header + "rules:\n- id: r\n  description: d\n  schema: s.json\n", "rules[0].kinds: is empty"},
		"a wrongly typed param":             {header + "policies:\n- name: p\n  rules: [x]\n  params:\n    minReplicas: three\n", "envctl.yaml:10: cannot unmarshal"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig("envctl.yaml", []byte(tt.cfg))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
