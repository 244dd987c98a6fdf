package validate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/repo"
)

const cfgHeader = "apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n- name: dev\n  path: env/dev\n- name: prod\n  path: env/prod\n"

// memRepo is an in-memory repository with envctl.yaml (after the header)
// and files; it returns the checks LoadChecks compiles from it.
func memRepo(t *testing.T, config string, files map[string]string) (*Checks, error) {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, c := range files {
		if err := fsys.WriteFile("/r/"+p, []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"/r/env/dev", "/r/env/prod"} {
		if err := fsys.WriteFile(d+"/kustomization.yaml", []byte("resources: []\n")); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.WriteFile("/r/envctl.yaml", []byte(cfgHeader+config)); err != nil {
		t.Fatal(err)
	}
	r, err := repo.Open(fsys, "/r")
	if err != nil {
		return nil, err
	}
	return LoadChecks(fsys, "/r", &r.Config, true)
}

func mustChecks(t *testing.T, config string, files map[string]string) *Checks {
	t.Helper()
	c, err := memRepo(t, config, files)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run validates YAML as environment env.
func run(t *testing.T, checks *Checks, opts Options, env, yaml string) *Report {
	t.Helper()
	if opts.KubernetesVersion == "" {
		opts.Strict = true
	}
	v, err := New(opts, checks)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := v.Validate(context.Background(), []Input{{Env: env, Streams: []Stream{{Name: "in.yaml", Data: []byte(yaml)}}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func find(rep *Report, kind, name string) *Result {
	for i := range rep.Results {
		if rep.Results[i].Object.Kind == kind && rep.Results[i].Object.Name == name {
			return &rep.Results[i]
		}
	}
	return nil
}

func problemsOf(r *Result) []string {
	var out []string
	for _, p := range r.Problems {
		s := p.Rule + " " + p.Path
		if p.Pointer != "" {
			s += " " + p.Pointer
		}
		out = append(out, s+": "+p.Message)
	}
	return out
}

func wantProblems(t *testing.T, r *Result, want ...string) {
	t.Helper()
	if r == nil {
		t.Fatal("no such result")
	}
	got := problemsOf(r)
	if len(got) != len(want) {
		t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("problem %d: %q does not contain %q", i, got[i], want[i])
		}
	}
}

const contractConfig = `contracts:
- configMap: app-config
  schema: s/data.json
  keys:
  - key: flags.json
    schema: s/flags.json
  - key: settings.yaml
    schema: s/flags.json
    optional: true
  - key: app.properties
    schema: s/props.json
    optional: true
  - key: app.env
    schema: s/props.json
    optional: true
- configMap: app-config
  environments: [prod]
  schema: s/prod.json
`

var contractFiles = map[string]string{
	"s/data.json":  `{"type":"object","required":["DEBUG"],"properties":{"DEBUG":{"enum":["true","false"]},"LOG_LEVEL":{"enum":["debug","info"]}}}`,
	"s/prod.json":  `{"properties":{"DEBUG":{"const":"false"}}}`,
	"s/flags.json": `{"type":"object","properties":{"flags":{"type":"object","additionalProperties":{"type":"boolean"}}},"required":["flags"]}`,
	"s/props.json": `{"type":"object","properties":{"POOL":{"type":"string","pattern":"^[0-9]+$"}}}`,
}

func configMap(name, data string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata:\n" + data
}

func TestContractsBindGeneratedNamesPerEnvironment(t *testing.T) {
	checks := mustChecks(t, contractConfig, contractFiles)
	cm := configMap("app-config-5f7k2m9h8t", "  DEBUG: \"true\"\n  LOG_LEVEL: trace\n  flags.json: |\n    {\"flags\": {\"a\": true, \"b\": \"yes\"}}\n")
	// dev: the general contract only.
	wantProblems(t, find(run(t, checks, Options{}, "dev", cm), "ConfigMap", "app-config-5f7k2m9h8t"),
		"contract /data/LOG_LEVEL: value must be one of",
		"contract /data/flags.json /flags/b: expected boolean, but got string")
	// prod: the prod contract too.
	wantProblems(t, find(run(t, checks, Options{}, "prod", cm), "ConfigMap", "app-config-5f7k2m9h8t"),
		"contract /data/DEBUG: value must be \"false\"",
		"contract /data/LOG_LEVEL",
		"contract /data/flags.json /flags/b")
	// No environment (-f without --env): no contracts.
	if r := find(run(t, checks, Options{}, "", cm), "ConfigMap", "app-config-5f7k2m9h8t"); r.Status != Valid {
		t.Errorf("without an environment: %v", problemsOf(r))
	}
}

func TestGeneratedName(t *testing.T) {
	for _, c := range []struct {
		name, base string
		want       bool
	}{
		{"app-config", "app-config", true},
		{"app-config-5f7k2m9h8t", "app-config", true},
		{"app-config-v2", "app-config", false},
		{"app-config-5f7k2m9h8t", "app", false},
		{"app-config-5f7k2m9h8a", "app-config", false}, // 'a' is not in kustomize's alphabet
		{"app-config-5f7k2m9h8tt", "app-config", false},
		{"xapp-config-5f7k2m9h8t", "app-config", false},
	} {
		if got := manifest.GeneratedName(c.name, c.base); got != c.want {
			t.Errorf("manifest.GeneratedName(%q, %q) = %v", c.name, c.base, got)
		}
	}
}

func TestContractPayloadFormats(t *testing.T) {
	checks := mustChecks(t, contractConfig, contractFiles)
	for _, c := range []struct {
		name, data string
		want       []string
	}{
		{"a missing required key", "  DEBUG: \"false\"\n", []string{`contract /data/flags.json: key "flags.json" is missing`}},
		{"JSON that does not parse names the line", "  DEBUG: \"false\"\n  flags.json: |\n    {\n      \"flags\": {\n        \"a\": tru\n      }\n    }\n",
			[]string{"contract-payload /data/flags.json: not valid JSON at line 3, column"}},
		{"JSON with trailing data", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}} {}'\n", []string{"not valid JSON at line 1, column 15: more than one JSON value"}},
		{"YAML that does not parse names the line", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  settings.yaml: |\n    flags:\n      a: true\n     b: false\n",
			[]string{"contract-payload /data/settings.yaml: not valid YAML at line 2"}},
		{"YAML checked as JSON values", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  settings.yaml: |\n    flags:\n      a: yes\n      b: 1\n",
			[]string{"contract /data/settings.yaml /flags/b: expected boolean, but got"}},
		{"properties", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  app.properties: |\n    # comment\n    POOL = ten\n",
			[]string{"contract /data/app.properties /POOL: does not match pattern"}},
		{"a properties escape that does not parse names the line", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  app.properties: |\n    A=1\n    POOL=\\uZZZZ\n",
			[]string{"contract-payload /data/app.properties: not valid properties at line 2"}},
		{"env", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  app.env: |\n    export POOL=\"x\"\n",
			[]string{"contract /data/app.env /POOL: does not match pattern"}},
		{"an env line without = names the line", "  DEBUG: \"false\"\n  flags.json: '{\"flags\": {}}'\n  app.env: |\n    # c\n    POOL=1\n    oops\n",
			[]string{"contract-payload /data/app.env: not valid env file at line 3: expected KEY=VALUE"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantProblems(t, find(run(t, checks, Options{}, "dev", configMap("app-config", c.data)), "ConfigMap", "app-config"), c.want...)
		})
	}
}

func TestParseProperties(t *testing.T) {
	v, err := parseProperties("# c\n! c\na=1\nb : 2\nc 3\nd=x\\\n  y\ne=\\u00e9\\t\nf\n  g:h\n")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "1", "b": "2", "c": "3", "d": "xy", "e": "é\t", "f": "", "g": "h"}
	for k, w := range want {
		if v.(map[string]any)[k] != w {
			t.Errorf("%s = %q, want %q", k, v.(map[string]any)[k], w)
		}
	}
}

// Secret values never appear in a message, in any format, whatever the
// schema says about them.
func TestSecretValuesNeverPrinted(t *testing.T) {
	checks := mustChecks(t, `contracts:
- secret: db
  schema: s/db.json
  keys:
  - key: config.json
    schema: s/conf.json
  - key: extra.yaml
    schema: s/conf.json
`, map[string]string{
		"s/db.json": `{"type":"object","properties":{
			"password":{"type":"string","minLength":40,"pattern":"^[A-Z]","format":"email","not":{"const":"hunter2-secret"}},
			"port":{"enum":["5432"]},
			"pin":{"type":"string","format":"ipv4"},
			"num":{"type":"string","maxLength":2}}}`,
		"s/conf.json": `{"type":"object","properties":{"token":{"type":"integer","minimum":100,"multipleOf":7}}}`,
	})
	secret := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-5f7k2m9h8t\nstringData:\n" +
		"  password: hunter2-secret\n  port: hunter2-port\n  pin: hunter2-pin\n  num: hunter2-num\n" +
		"  config.json: '{\"token\": \"hunter2-token\"}'\n" +
		"  extra.yaml: \"a: [hunter2-yaml\"\n" +
		"data:\n  bad: hunter2-not-base64!\n"
	rep := run(t, checks, Options{}, "prod", secret)
	r := find(rep, "Secret", "db-5f7k2m9h8t")
	if r == nil || r.Status != Invalid || len(r.Problems) < 6 {
		t.Fatalf("want the secret invalid with every problem found, got %+v", r)
	}
	for _, format := range Formats() {
		var buf bytes.Buffer
		if err := Write(&buf, format, rep); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "hunter2") {
			t.Errorf("%s output shows a secret value:\n%s", format, buf.String())
		}
	}
	// And each problem still says which constraint failed.
	for _, p := range r.Problems {
		if p.Message == "" || p.Path == "" {
			t.Errorf("problem without message or path: %+v", p)
		}
	}
	var buf bytes.Buffer
	_ = Write(&buf, "text", rep)
	for _, want := range []string{"length must be >= 40", "does not match pattern '^[A-Z]'", "is not a valid email", `value must be "5432"`, "/token: expected integer, but got string", "not valid YAML at line 1", "invalid base64 data"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, buf.String())
		}
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name   string
		config string
		files  map[string]string
		want   string
	}{
		{"a contract schema that is not JSON Schema", "contracts:\n- configMap: a\n  schema: s/bad.json\n",
			map[string]string{"s/bad.json": `{"type": "strnig"}`}, "envctl.yaml:10: contracts[0].schema: s/bad.json: not a valid JSON Schema: /type"},
		{"a contract schema that is not JSON", "contracts:\n- configMap: a\n  keys:\n  - key: a.json\n    schema: s/bad.json\n",
			map[string]string{"s/bad.json": "{\n  \"type\": \"object\",\n}\n"}, "envctl.yaml:12: contracts[0].keys[0].schema: s/bad.json: not valid JSON at line 3"},
		{"a contract schema that does not exist", "contracts:\n- configMap: a\n  schema: s/none.json\n",
			nil, "contracts[0].schema: s/none.json: no such file"},
		{"a schema that references the network", "contracts:\n- configMap: a\n  schema: s/net.json\n",
			map[string]string{"s/net.json": `{"$ref": "https://example.com/schema.json"}`}, "only files of the repository can be referenced"},
		{"an unknown policy id", "policies:\n- name: p\n  rules: [image-tag, no-latest-tag]\n",
			nil, `envctl.yaml:10: policies[0].rules[1]: unknown rule "no-latest-tag" (built-in rules: image-tag, min-replicas, no-host-path, no-privileged, pdb, read-only-root-fs, required-labels, resources, run-as-non-root; envctl.yaml defines none under rules:)`},
		{"a custom rule with a built-in id", "rules:\n- id: pdb\n  description: d\n  kinds: [Pod]\n  schema: s/x.json\n",
			map[string]string{"s/x.json": "{}"}, `rules[0].id: "pdb" is a built-in rule`},
		{"an invalid CRD names the file and the line", "crds: [crds/]\n",
			map[string]string{"crds/a.yaml": "# a\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: ok.example.com}\nspec:\n  group: example.com\n  names: {kind: Ok}\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: {type: object}\n",
				"crds/b.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\nspec:\n  group: example.com\n  names: {kind: Widget}\n  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema:\n        type: object\n        properties:\n          size: {type: integr}\n"},
			`envctl.yaml:8: crds[0]: crds/b.yaml:1: CustomResourceDefinition widgets.example.com: version v1: spec.versions[0].schema.openAPIV3Schema: not a valid JSON Schema: /properties/size/type`},
		{"a CRD without a schema", "crds: [crd.yaml]\n",
			map[string]string{"crd.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: w.example.com}\nspec:\n  group: example.com\n  names: {kind: W}\n  versions:\n  - name: v1\n"},
			"crd.yaml:1: CustomResourceDefinition w.example.com: version v1 has no schema"},
		{"a CRD file that does not parse", "crds: [crd.yaml]\n", map[string]string{"crd.yaml": "a: 1\n---\nb: [\n"}, "crds[0]: crd.yaml:3"},
		{"a crds entry without CRDs", "crds: [crds]\n", map[string]string{"crds/x.yaml": "apiVersion: v1\nkind: ConfigMap\n"}, "crds holds no CustomResourceDefinition"},
		{"a crds entry that does not exist", "crds: [nope/]\n", nil, "crds[0]: nope/: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := memRepo(t, c.config, c.files)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v\nwant %q", err, c.want)
			}
			var ce *repo.ConfigError
			if !errors.As(err, &ce) {
				t.Errorf("not a ConfigError: %T", err)
			}
		})
	}
}

func TestUnknownKubernetesVersionListsTheAvailableOnes(t *testing.T) {
	_, err := New(Options{KubernetesVersion: "1.29"}, nil)
	if err == nil || !strings.Contains(err.Error(), "available: 1.31, 1.32, 1.33, 1.34") {
		t.Fatalf("err = %v", err)
	}
}

func TestObjectsThatCannotBeChecked(t *testing.T) {
	checks := mustChecks(t, "contracts:\n- configMap: app-config\n  environments: [prod]\n  schema: s.json\n", map[string]string{"s.json": "{}"})
	rep := run(t, checks, Options{}, "prod", "kind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nmetadata: {name: b}\n---\nkey: [\n---\nmetadata: {name: c}\n")
	var reasons []string
	for _, r := range rep.Results {
		if r.Status != Error {
			t.Errorf("%s: %s", r.Object, r.Status)
		}
		reasons = append(reasons, r.Reason)
	}
	want := []string{"the document has no apiVersion", "the document has no kind", "not a Kubernetes object: line 7:", "no apiVersion and no kind",
		"contract envctl.yaml:9 binds ConfigMap app-config, but environment prod has no ConfigMap of that name"}
	if len(reasons) != len(want) {
		t.Fatalf("reasons %q", reasons)
	}
	for i := range want {
		if !strings.Contains(reasons[i], want[i]) {
			t.Errorf("reason %d: %q, want %q", i, reasons[i], want[i])
		}
	}
}

func TestSkipKindsAndUnknownKinds(t *testing.T) {
	in := "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbogus: 1\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: 1\n"
	rep := run(t, nil, Options{Strict: true}, "", in)
	if c := rep.Count(nil); c.Errors != 1 || c.Invalid != 2 {
		t.Errorf("default: %+v", c)
	}
	rep = run(t, nil, Options{Strict: true, SkipUnknown: true, SkipKinds: []string{"v1/ConfigMap", "Deployment"}}, "", in)
	if c := rep.Count(nil); c.Skipped != 3 {
		t.Errorf("skipping: %+v", c)
	}
	if r := find(rep, "Widget", "w"); !strings.Contains(r.Reason, "no schema for example.com/v1 Widget") {
		t.Errorf("reason %q", r.Reason)
	}
	rep = run(t, nil, Options{Strict: true, SkipKinds: []string{"apps/v1/Deployment"}}, "", in)
	if r := find(rep, "Deployment", "d"); r.Status != Skipped {
		t.Errorf("group/version/Kind: %s", r.Status)
	}
}

func TestNotStrictAllowsUnknownFieldsAndDuplicateKeys(t *testing.T) {
	in := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nbogus: 1\ndata:\n  a: x1\n  a: x2\n"
	if r := run(t, nil, Options{Strict: true}, "", in).Results[0]; r.Status != Invalid || len(r.Problems) != 2 {
		t.Errorf("strict: %v", problemsOf(&r))
	}
	if r := run(t, nil, Options{KubernetesVersion: "1.31", Strict: false}, "", in).Results[0]; r.Status != Valid {
		t.Errorf("not strict: %v", problemsOf(&r))
	}
}

func TestListsAreCheckedItemByItem(t *testing.T) {
	in := "# kubectl get -o yaml\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: b}\n  data: {k: 1}\n"
	rep := run(t, nil, Options{}, "", in)
	if len(rep.Results) != 2 || rep.Results[0].Status != Valid || rep.Results[1].Status != Invalid {
		t.Fatalf("%+v", rep.Results)
	}
	if r := rep.Results[1]; r.Source.Line != 8 || r.Problems[0].Line != 11 || r.Problems[0].Path != "/data/k" {
		t.Errorf("item b at line %d, problem %+v", r.Source.Line, r.Problems[0])
	}
}

func TestCRDsRenderedWithTheirObjects(t *testing.T) {
	data, err := os.ReadFile("testdata/repo/crds/widget.yaml")
	if err != nil {
		t.Fatal(err)
	}
	in := string(data) + "---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ok}\nspec: {size: 1, port: 8080, note: null, template: {apiVersion: v1, kind: Pod}}\n" +
		"---\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {size: \"1\", port: 1.5, colour: pink, extra: 1, template: {kind: Pod}, interval: soon}\n" +
		"---\napiVersion: example.com/v2\nkind: Widget\nmetadata: {name: v2}\nspec: {size: 1}\n"
	rep := run(t, nil, Options{}, "", in)
	if r := find(rep, "Widget", "ok"); r.Status != Valid {
		t.Errorf("ok: %v", problemsOf(r))
	}
	wantProblems(t, find(rep, "Widget", "bad"),
		"crd-schema /spec/colour: value must be one of",
		"crd-schema /spec/extra: unknown field",
		"crd-schema /spec/interval: 'soon' is not valid 'duration'",
		"crd-schema /spec/port: expected integer or string, but got number",
		"crd-schema /spec/size: expected integer, but got string",
		"crd-schema /spec/template/apiVersion: required field")
	if r := find(rep, "Widget", "v2"); r.Status != Error {
		t.Errorf("a version the CRD does not have: %s", r.Status)
	}
	// A CRD rendered in the input that does not compile stops the run.
	v, _ := New(Options{Strict: true}, nil)
	_, err = v.Validate(context.Background(), []Input{{Env: "prod", Streams: []Stream{{Data: []byte(strings.Replace(string(data), "type: integer, minimum: 1", "type: integr", 1))}}}})
	if err == nil || !strings.Contains(err.Error(), "environment prod: CustomResourceDefinition widgets.example.com: version v1") {
		t.Errorf("err = %v", err)
	}
}

// A CRD schema need not list apiVersion, kind and metadata: every custom
// resource has them, and strict mode must not call them unknown.
func TestCRDSchemaWithoutTheStandardFields(t *testing.T) {
	in := "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: gs.example.com}\nspec:\n  group: example.com\n  names: {kind: G, plural: gs}\n" +
		"  versions:\n  - name: v1\n    schema:\n      openAPIV3Schema: {type: object, properties: {spec: {type: object}}}\n" +
		"---\napiVersion: example.com/v1\nkind: G\nmetadata: {name: g, labels: {a: b}}\nspec: {}\n---\napiVersion: example.com/v1\nkind: G\nmetadata: {name: h}\nstatus: {}\n"
	rep := run(t, nil, Options{}, "", in)
	if r := find(rep, "G", "g"); r.Status != Valid {
		t.Errorf("g: %v", problemsOf(r))
	}
	wantProblems(t, find(rep, "G", "h"), `crd-schema /status: unknown field "status"`)
}

func TestFieldPath(t *testing.T) {
	for p, want := range map[string]string{
		"":                                       "(root)",
		"/spec/replicas":                         "spec.replicas",
		"/spec/template/spec/containers/0/image": "spec.template.spec.containers[0].image",
		"/metadata/labels/app.kubernetes.io~1name": `metadata.labels["app.kubernetes.io/name"]`,
		"/data/feature-flags.json":                 `data["feature-flags.json"]`,
		"/data/LOG_LEVEL":                          "data.LOG_LEVEL",
	} {
		if got := FieldPath(p); got != want {
			t.Errorf("FieldPath(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestSplitDocuments(t *testing.T) {
	docs := splitDocuments([]byte("# head\n---\na: 1\n--- # c\n\n# only a comment\n---\nb: 2\n...\n--- {c: 3}\n"))
	var lines []int
	for _, d := range docs {
		lines = append(lines, d.Line)
	}
	if !slices.Equal(lines, []int{3, 8, 10}) {
		t.Errorf("document lines %v", lines)
	}
}

func TestEachEnvironmentIsCheckedAgainstItsOwnKubernetesVersion(t *testing.T) {
	// resource.k8s.io/v1 came with Kubernetes 1.34.
	const doc = "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata:\n  name: gpu\nspec: {}\n"
	v, err := New(Options{Strict: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := v.Validate(context.Background(), []Input{
		{Env: "old", KubernetesVersion: "v1.33.2", Streams: []Stream{{Data: []byte(doc)}}},
		{Env: "new", Streams: []Stream{{Data: []byte(doc)}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.KubernetesVersion != "1.37" || rep.EnvVersions["old"] != "1.33" || len(rep.EnvVersions) != 1 {
		t.Fatalf("versions: %s %v", rep.KubernetesVersion, rep.EnvVersions)
	}
	old, cur := rep.Results[0], rep.Results[1]
	if old.Status != Error || !strings.Contains(old.Reason, "Kubernetes 1.33") || cur.Status != Valid {
		t.Errorf("old: %s %s; new: %s %s", old.Status, old.Reason, cur.Status, cur.Reason)
	}
	var out bytes.Buffer
	if err := Write(&out, "text", rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"old: 1 object: 0 valid, 0 invalid, 1 error, 0 skipped (Kubernetes 1.33)\n", "new: 1 object: 1 valid", "(Kubernetes 1.33, 1.37, strict)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := v.Validate(context.Background(), []Input{{Env: "x", KubernetesVersion: "1.30"}}); err == nil || !strings.Contains(err.Error(), "environment x: no schemas for Kubernetes version \"1.30\"") {
		t.Errorf("unknown version: %v", err)
	}
}

const celCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  names: {kind: Gadget, plural: gadgets}
  scope: Namespaced
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
              x-kubernetes-validations:
                - rule: RULE
                  message: size is fixed once set
              properties:
                size: {type: integer}
                labels:
                  type: array
                  items: {type: string}
`

func TestCELTransitionRulesAreNotedNotChecked(t *testing.T) {
	crd := strings.Replace(celCRD, "RULE", `"self.size == oldSelf.size"`, 1)
	rep := run(t, nil, Options{}, "", crd+"---\napiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\nspec: {size: 3}\n")
	r := rep.Results[1]
	if r.Status != Valid || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "spec: transition rule not checked") || !strings.Contains(r.Notes[0], "self.size == oldSelf.size") {
		t.Fatalf("%s %v %q", r.Status, r.Problems, r.Notes)
	}
	var out bytes.Buffer
	if err := Write(&out, "json", rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"notes": [`) {
		t.Errorf("-o json does not say the rule was not checked:\n%s", out.String())
	}
}

func TestCELRulesThatTheAPIServerWouldRefuseFailTheCRD(t *testing.T) {
	for name, tc := range map[string]struct{ rule, want string }{
		"a rule that does not compile": {`"self.size > 'three'"`,
			`CustomResourceDefinition gadgets.example.com: spec.versions[*].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value:`},
		"a rule over an unbounded list": {`"self.labels.all(a, self.labels.all(b, self.labels.all(c, a + b + c != 'x')))"`,
			`x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget`},
	} {
		t.Run(name, func(t *testing.T) {
			v, err := New(Options{Strict: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			crd := strings.Replace(celCRD, "RULE", tc.rule, 1)
			_, err = v.Validate(context.Background(), []Input{{Env: "prod", Streams: []Stream{{Data: []byte(crd)}}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "environment prod: CustomResourceDefinition gadgets.example.com") {
				t.Fatalf("err = %v\nwant %s", err, tc.want)
			}
		})
	}
}

func TestFieldToPointer(t *testing.T) {
	for in, want := range map[string]string{
		"<nil>":                              "",
		"spec":                               "/spec",
		"spec.ports[0].port":                 "/spec/ports/0/port",
		"metadata.labels[app.example.com/x]": "/metadata/labels/app.example.com~1x",
		"spec.matrix[1][2]":                  "/spec/matrix/1/2",
	} {
		if got := fieldToPointer(in); got != want {
			t.Errorf("fieldToPointer(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServiceNamesFollowTheirKubernetesVersion(t *testing.T) {
	const svc = "apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\nspec:\n  ports: [{port: 80}]\n"
	for version, want := range map[string]Status{"1.35": Invalid, "1.36": Valid, "1.37": Valid} {
		rep := run(t, nil, Options{KubernetesVersion: version, Strict: true}, "", svc)
		if got := rep.Results[0].Status; got != want {
			t.Errorf("Kubernetes %s: %s %v, want %s", version, got, rep.Results[0].Problems, want)
		}
	}
}

func TestSecretLimitsNameKeysAndSizesNotValues(t *testing.T) {
	rep := run(t, nil, Options{}, "", "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {\"bad:key\": CHANGEME-hunter2}\n")
	r := rep.Results[0]
	if r.Status != Invalid || len(r.Problems) != 1 || r.Problems[0].Path != "/stringData" || strings.Contains(r.Problems[0].Message, "bad:key") {
		t.Fatalf("%s %v", r.Status, r.Problems)
	}
	if strings.Contains(r.Problems[0].Message, "hunter2") {
		t.Errorf("the message quotes the value: %s", r.Problems[0].Message)
	}
}
