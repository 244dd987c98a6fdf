package validate

import (
	"strconv"
	"strings"
	"testing"
)

func deployment(name string, replicas int, podSpec string) string {
	r := ""
	if replicas >= 0 {
		r = "  replicas: " + itoa(replicas) + "\n"
	}
	return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n  labels: {app.kubernetes.io/name: " + name + "}\nspec:\n" + r +
		"  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n    spec:\n" + podSpec
}

func itoa(n int) string { return strconv.Itoa(n) }

const goodPod = `      securityContext: {runAsNonRoot: true}
      containers:
      - name: app
        image: example/app:1.0.0
        resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 128Mi}}
        securityContext: {readOnlyRootFilesystem: true}
`

const pdbFor = "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: pdb, labels: {app.kubernetes.io/name: pdb}}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: NAME}}\n"

func policyChecks(t *testing.T, rules string) *Checks {
	cfg := "policies:\n- name: p\n  environments: [prod]\n  rules: [" + rules + "]\n  params: {minReplicas: 3, requiredLabels: [app.kubernetes.io/name, team]}\n"
	if strings.Contains(rules, "min-replicas") {
		cfg += "  exclude:\n  - {rules: [min-replicas], kind: Deployment, name: single*, reason: by design}\n"
	}
	return mustChecks(t, cfg, nil)
}

func TestBuiltinPolicyRules(t *testing.T) {
	for _, c := range []struct {
		name, rules, yaml string
		want              []string // problems of the first object
	}{
		{"min-replicas passes at the minimum", "min-replicas", deployment("api", 3, goodPod), nil},
		{"min-replicas fails below it", "min-replicas", deployment("api", 2, goodPod), []string{"min-replicas /spec/replicas: runs 2 replica(s); the policy requires at least 3"}},
		{"min-replicas counts unset replicas as one", "min-replicas", deployment("api", -1, goodPod), []string{"sets no replicas (so runs 1)"}},
		{"min-replicas takes the HPA's minimum", "min-replicas", deployment("api", 1, goodPod) +
			"---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: api}\nspec: {scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}, minReplicas: 2, maxReplicas: 5}\n",
			[]string{"HorizontalPodAutoscaler api scales it down to 2 replica(s)"}},
		{"an exclusion exempts by kind and name glob", "min-replicas", deployment("singleton", 1, goodPod), nil},
		{"resources", "resources", deployment("api", 1, "      containers:\n      - name: app\n        image: a:1\n        resources: {requests: {cpu: 1}}\n      initContainers:\n      - {name: init, image: a:1}\n"),
			[]string{`/spec/template/spec/containers/0/resources: container "app" sets no memory request, cpu limit and memory limit`,
				`/spec/template/spec/initContainers/0/resources: init container "init" sets no cpu request, memory request, cpu limit and memory limit`}},
		{"image-tag", "image-tag", deployment("api", 1, "      containers:\n      - {name: a, image: nginx}\n      - {name: b, image: nginx:latest}\n      - {name: c, image: 'registry:5000/nginx'}\n      - {name: d, image: 'nginx@sha256:abc'}\n      - {name: e, image: 'registry:5000/nginx:1.2'}\n"),
			[]string{`containers/0/image: container "a": image "nginx" has no tag`, `containers/1/image: container "b": image "nginx:latest" uses the latest tag`, `containers/2/image: container "c": image "registry:5000/nginx" has no tag`}},
		{"run-as-non-root", "run-as-non-root", deployment("api", 1, "      securityContext: {runAsUser: 1000}\n      containers:\n      - {name: a, image: a:1}\n      - {name: b, image: a:1, securityContext: {runAsUser: 0}}\n      - {name: c, image: a:1, securityContext: {runAsNonRoot: true}}\n"),
			[]string{`containers/1/securityContext/runAsUser: container "b" runs as root (runAsUser: 0)`}},
		{"run-as-non-root without any setting", "run-as-non-root", deployment("api", 1, "      containers:\n      - {name: a, image: a:1}\n"), []string{`container "a" may run as root`}},
		{"no-privileged", "no-privileged", deployment("api", 1, "      containers:\n      - {name: a, image: a:1, securityContext: {privileged: true}}\n"), []string{`securityContext/privileged: container "a" runs privileged`}},
		{"no-host-path", "no-host-path", deployment("api", 1, "      containers:\n      - {name: a, image: a:1}\n      volumes:\n      - {name: v, hostPath: {path: /etc}}\n"), []string{`volumes/0/hostPath: volume "v" mounts the node's directory "/etc"`}},
		{"no-host-path on a PersistentVolume", "no-host-path", "apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec: {hostPath: {path: /data}, capacity: {storage: 1Gi}}\n", []string{`/spec/hostPath: the volume is the node's directory "/data"`}},
		{"read-only-root-fs", "read-only-root-fs", deployment("api", 1, "      containers:\n      - {name: a, image: a:1}\n"), []string{`container "a" has a writable root filesystem`}},
		{"required-labels", "required-labels", deployment("api", 1, goodPod), []string{`/metadata/labels/team: label "team" is missing`}},
		{"pdb is required for several replicas", "pdb", deployment("api", 3, goodPod), []string{"/spec/replicas: runs 3 replicas but no PodDisruptionBudget selects its pods"}},
		{"pdb selecting the pods passes", "pdb", deployment("api", 3, goodPod) + "---\n" + strings.ReplaceAll(pdbFor, "NAME", "api"), nil},
		{"a pdb selecting other pods does not count", "pdb", deployment("api", 3, goodPod) + "---\n" + strings.ReplaceAll(pdbFor, "NAME", "web"), []string{"no PodDisruptionBudget selects its pods"}},
		{"pdb is not required for one replica", "pdb", deployment("api", 1, goodPod), nil},
		{"policies apply to their environments only", "image-tag", strings.Replace(deployment("api", 1, goodPod), "example/app:1.0.0", "nginx", 1), []string{"has no tag"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := run(t, policyChecks(t, c.rules), Options{}, "prod", c.yaml)
			r := &rep.Results[0]
			var got []string
			for _, p := range r.Problems {
				if p.Rule != RuleKubernetesSchema {
					got = append(got, p.Rule+" "+p.Path+": "+p.Message)
				}
			}
			if len(got) != len(c.want) {
				t.Fatalf("problems:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
			}
			for i, w := range c.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("%q does not contain %q", got[i], w)
				}
			}
			// dev has no policy.
			if r := run(t, policyChecks(t, c.rules), Options{}, "dev", c.yaml).Results[0]; len(r.Problems) > 0 && r.Problems[0].Rule != RuleKubernetesSchema {
				t.Errorf("dev: %v", problemsOf(&r))
			}
		})
	}
}

func TestCustomRules(t *testing.T) {
	checks := mustChecks(t, `rules:
- id: probes
  description: Containers have a liveness probe.
  kinds: [apps/v1/Deployment]
  names: ["api*"]
  schema: p/probes.json
policies:
- name: p
  rules: [probes]
`, map[string]string{"p/probes.json": `{"properties":{"spec":{"properties":{"template":{"properties":{"spec":{"properties":{"containers":{"items":{"required":["livenessProbe"]}}}}}}}}}}`})
	rep := run(t, checks, Options{}, "dev", deployment("api-1", 1, goodPod)+"---\n"+deployment("web", 1, goodPod))
	wantProblems(t, find(rep, "Deployment", "api-1"), `probes /spec/template/spec/containers/0/livenessProbe: required field "livenessProbe" is missing`)
	if r := find(rep, "Deployment", "web"); r.Status != Valid {
		t.Errorf("a name the rule does not select: %v", problemsOf(r))
	}
	if rep.Rules["probes"] != "Containers have a liveness probe." {
		t.Errorf("rule description %q", rep.Rules["probes"])
	}
}
