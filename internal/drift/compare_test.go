package drift

import (
	"strings"
	"testing"
)

// stripEvidence removes the live object's record of earlier applies
// (last-applied-configuration and managedFields), as a snapshot taken
// without them would look.
func stripEvidence(t testing.TB, live string) string {
	t.Helper()
	var out []string
	skip := -1
	for _, line := range strings.Split(live, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if skip >= 0 {
			if strings.TrimSpace(line) == "" || indent > skip || (indent == skip && strings.HasPrefix(strings.TrimLeft(line, " "), "- ")) {
				continue
			}
			skip = -1
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "managedFields:") || strings.HasPrefix(trimmed, "kubectl.kubernetes.io/last-applied-configuration:") {
			skip = indent
			continue
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

func TestCompare(t *testing.T) {
	bare := stripEvidence(t, liveDeployment)
	tests := []struct {
		name    string
		desired string
		live    string
		opts    Options
		want    []string
	}{
		{
			name:    "identical objects are in sync",
			desired: desiredDeployment,
			live:    liveDeployment,
			want:    nil,
		},
		{
			name:    "a changed replica count is drift",
			desired: desiredDeployment,
			live:    edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 5\n  revisionHistoryLimit"),
			want: []string{
				"changed Deployment shop/api",
				"~ spec.replicas: 5 → 2",
			},
		},
		{
			name:    "a changed image is drift",
			desired: edit(t, desiredDeployment, "shop/api:1.0", "shop/api:1.1"),
			live:    liveDeployment,
			want: []string{
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].image: "shop/api:1.0" → "shop/api:1.1"`,
			},
		},
		{
			name: "quantity spellings, number spellings and the default protocol are not drift",
			desired: edit(t, desiredDeployment,
				"cpu: \"1\"", "cpu: 1000m",
				"memory: 1Gi", "memory: 1024Mi",
				"cpu: 500m", "cpu: 0.5",
				"memory: 512Mi", "memory: \"536870912\"",
				"replicas: 2", "replicas: 2.0",
				"          name: http\n", "          name: http\n          protocol: TCP\n"),
			live: liveDeployment,
			want: nil,
		},
		{
			name: "a different quantity is drift",
			desired: edit(t, desiredDeployment,
				"memory: 1Gi", "memory: 1G"),
			live: liveDeployment,
			want: []string{
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].resources.limits.memory: "1Gi" → "1G"`,
			},
		},
		{
			name:    "empty values in the repository equal absent fields in the cluster",
			desired: edit(t, desiredDeployment, "      containers:\n", "      nodeSelector: {}\n      tolerations: []\n      hostname: \"\"\n      affinity: null\n      containers:\n"),
			live:    liveDeployment,
			want:    nil,
		},
		{
			name:    "labels and annotations added by hand are not drift",
			desired: desiredDeployment,
			live: edit(t, liveDeployment,
				"  labels:\n    app: api\n", "  labels:\n    app: api\n    team: payments\n",
				"  annotations:\n", "  annotations:\n    example.com/on-call: alice\n",
				"      labels:\n        app: api\n", "      annotations:\n        kubectl.kubernetes.io/restartedAt: \"2025-01-03T00:00:00Z\"\n      labels:\n        app: api\n"),
			want: nil,
		},
		{
			name:    "an env var added by kubectl edit to a declared container is drift, attributed to its manager",
			desired: desiredDeployment,
			live: edit(t, liveDeployment,
				"        - name: LOG_LEVEL\n          value: info\n        image:", "        - name: LOG_LEVEL\n          value: info\n        - name: DEBUG\n          value: \"1\"\n        image:",
				"    time: \"2025-01-02T03:04:09Z\"\nspec:", `    time: "2025-01-02T03:04:09Z"
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:spec:
        f:template:
          f:spec:
            f:containers:
              k:{"name":"api"}:
                f:env:
                  k:{"name":"DEBUG"}:
                    .: {}
                    f:name: {}
                    f:value: {}
    manager: kubectl-edit
    operation: Update
spec:`),
			want: []string{
				"changed Deployment shop/api",
				`! spec.template.spec.containers[name=api].env[name=DEBUG]: {"name":"DEBUG","value":"1"} [kubectl-edit]`,
			},
		},
		{
			name:    "an env var added by hand is drift even when the cluster keeps no managedFields",
			desired: desiredDeployment,
			live: edit(t, bare,
				"        - name: LOG_LEVEL\n          value: info\n        image:", "        - name: LOG_LEVEL\n          value: info\n        - name: DEBUG\n          value: \"1\"\n        image:"),
			want: []string{
				"changed Deployment shop/api",
				`! spec.template.spec.containers[name=api].env[name=DEBUG]: {"name":"DEBUG","value":"1"}`,
			},
		},
		{
			name:    "an env var added by hand to a container that declares no env is drift",
			desired: edit(t, desiredDeployment, "        env:\n        - name: LOG_LEVEL\n          value: info\n", ""),
			live:    edit(t, bare, "        - name: LOG_LEVEL\n          value: info\n", "        - name: DEBUG\n          value: \"1\"\n"),
			want: []string{
				"changed Deployment shop/api",
				`! spec.template.spec.containers[name=api].env[name=DEBUG]: {"name":"DEBUG","value":"1"}`,
			},
		},
		{
			name:    "a sidecar container added by hand is drift",
			desired: desiredDeployment,
			live:    edit(t, bare, "      dnsPolicy:", "      - image: busybox\n        name: debug\n      dnsPolicy:"),
			want: []string{
				"changed Deployment shop/api",
				`! spec.template.spec.containers[name=debug]: {"image":"busybox","name":"debug"}`,
			},
		},
		{
			name:    "an env var the repository adds is drift",
			desired: edit(t, desiredDeployment, "          value: info\n", "          value: info\n        - name: FEATURE_X\n          value: \"on\"\n"),
			live:    liveDeployment,
			want: []string{
				"changed Deployment shop/api",
				`+ spec.template.spec.containers[name=api].env[name=FEATURE_X]: {"name":"FEATURE_X","value":"on"}`,
			},
		},
		{
			name:    "env vars are matched by name, not position",
			desired: edit(t, desiredDeployment, "        - name: LOG_LEVEL\n          value: info\n", "        - name: A\n          value: a\n        - name: LOG_LEVEL\n          value: info\n"),
			live:    edit(t, bare, "        - name: LOG_LEVEL\n          value: info\n", "        - name: LOG_LEVEL\n          value: debug\n        - name: A\n          value: a\n"),
			want: []string{
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].env[name=LOG_LEVEL].value: "debug" → "info"`,
			},
		},
		{
			name:    "a label removed from the repository after an apply is drift, seen in last-applied-configuration",
			desired: edit(t, desiredDeployment, "  labels:\n    app: api\n", "  labels:\n    app: api\n    team: payments\n"),
			live:    liveDeployment,
			want: []string{
				"changed Deployment shop/api",
				`+ metadata.labels.team: "payments"`,
			},
		},
		{
			name:    "a field removed from the repository after an apply is drift, seen in last-applied-configuration",
			desired: edit(t, desiredDeployment, "        env:\n        - name: LOG_LEVEL\n          value: info\n", "", "  labels:\n    app: api\n", ""),
			live:    edit(t, stripManagedFieldsOnly(t, liveDeployment), "  labels:\n    app: api\n", "  labels:\n    app: api\n    on-call: alice\n    team: payments\n", `"metadata":{"labels":{"app":"api"}`, `"metadata":{"labels":{"app":"api","team":"payments"}`),
			want: []string{
				"changed Deployment shop/api",
				`- metadata.labels.app: "api"`,
				`- metadata.labels.team: "payments"`,
				`- spec.template.spec.containers[name=api].env[name=LOG_LEVEL]: {"name":"LOG_LEVEL","value":"info"}`,
			},
		},
		{
			name:    "a field removed from the repository after a server-side apply is drift, seen in managedFields",
			desired: edit(t, desiredDeployment, "        env:\n        - name: LOG_LEVEL\n          value: info\n", "", "        resources:\n          limits:\n            cpu: \"1\"\n", "        resources:\n          limits:\n"),
			live:    edit(t, stripLastAppliedOnly(t, liveDeployment), "manager: kubectl-client-side-apply\n    operation: Update", "manager: envctl\n    operation: Apply"),
			want: []string{
				"changed Deployment shop/api",
				`- spec.template.spec.containers[name=api].env[name=LOG_LEVEL]: {"name":"LOG_LEVEL","value":"info"}`,
				`- spec.template.spec.containers[name=api].resources.limits.cpu: "1"`,
			},
		},
		{
			name:    "a block removed from the repository is one change",
			desired: edit(t, desiredDeployment, "          limits:\n            cpu: \"1\"\n            memory: 1Gi\n", ""),
			live:    liveDeployment,
			want: []string{
				"changed Deployment shop/api",
				`- spec.template.spec.containers[name=api].resources.limits: {"cpu":"1","memory":"1Gi"}`,
			},
		},
		{
			name:    "defaulted fields that the creating manager owns in managedFields are not drift",
			desired: edit(t, desiredDeployment, "  replicas: 2\n", ""),
			live: edit(t, stripLastAppliedOnly(t, liveDeployment), "        f:replicas: {}\n        f:selector: {}\n", `        f:progressDeadlineSeconds: {}
        f:replicas: {}
        f:revisionHistoryLimit: {}
        f:selector: {}
        f:strategy:
          f:rollingUpdate:
            .: {}
            f:maxSurge: {}
            f:maxUnavailable: {}
          f:type: {}
`, "                f:image: {}\n", "                f:image: {}\n                f:imagePullPolicy: {}\n                f:terminationMessagePath: {}\n"),
			want: nil,
		},
		{
			name:    "fields owned by a manager that is not an applier are not evidence",
			desired: edit(t, desiredDeployment, "        resources:\n          limits:\n            cpu: \"1\"\n", "        resources:\n          limits:\n"),
			live:    edit(t, stripLastAppliedOnly(t, liveDeployment), "manager: kubectl-client-side-apply\n    operation: Update", "manager: kubectl-create\n    operation: Update"),
			want:    nil,
		},
		{
			name:    "a field removed from the repository is not drift when the cluster shows no earlier apply",
			desired: edit(t, desiredDeployment, "        resources:\n          limits:\n            cpu: \"1\"\n", "        resources:\n          limits:\n"),
			live:    bare,
			want:    nil,
		},
		{
			name:    "a missing object is drift",
			desired: docs(desiredDeployment, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n"),
			live:    liveDeployment,
			want:    []string{"missing ServiceAccount shop/api"},
		},
		{
			name:    "versions of one API group name the same object",
			desired: "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  maxReplicas: 5\n",
			live:    "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  maxReplicas: 4\n",
			want:    []string{"changed HorizontalPodAutoscaler shop/api", "~ spec.maxReplicas: 4 → 5"},
		},
		{
			name:    "desired objects without a namespace get the default namespace, cluster-scoped ones none",
			desired: docs(edit(t, desiredDeployment, "  namespace: shop\n", ""), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"),
			live:    docs(liveDeployment, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\nspec:\n  finalizers: [kubernetes]\n"),
			opts:    Options{DefaultNamespace: "shop"},
			want:    nil,
		},
		{
			name:    "replicas of a workload that a desired HorizontalPodAutoscaler scales are ignored",
			desired: docs(desiredDeployment, "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: api\n  maxReplicas: 10\n"),
			live:    docs(edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 7\n  revisionHistoryLimit"), "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: api\n  maxReplicas: 10\n  minReplicas: 1\n"),
			want:    nil,
		},
		{
			name:    "replicas are compared when the autoscaler targets another workload",
			desired: docs(desiredDeployment, "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  maxReplicas: 10\n"),
			live:    docs(edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 7\n  revisionHistoryLimit"), "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  scaleTargetRef:\n    apiVersion: apps/v1\n    kind: Deployment\n    name: web\n  maxReplicas: 10\n"),
			want:    []string{"changed Deployment shop/api", "~ spec.replicas: 7 → 2"},
		},
		{
			name:    "an ignore rule skips a field by JSON pointer",
			desired: desiredDeployment,
			live:    edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 5\n  revisionHistoryLimit"),
			opts:    Options{Ignore: []IgnoreRule{{Kind: "Deployment", Name: "a*", Pointer: "/spec/replicas"}}},
			want:    nil,
		},
		{
			name:    "an ignore rule for another object does not apply",
			desired: desiredDeployment,
			live:    edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 5\n  revisionHistoryLimit"),
			opts:    Options{Ignore: []IgnoreRule{{Kind: "Deployment", Name: "web", Pointer: "/spec/replicas"}, {APIVersion: "extensions/v1beta1", Pointer: "/spec/replicas"}}},
			want:    []string{"changed Deployment shop/api", "~ spec.replicas: 5 → 2"},
		},
		{
			name:    "an ignore rule selects list items by key, index or wildcard and escapes ~1",
			desired: edit(t, desiredDeployment, "shop/api:1.0", "shop/api:1.1", "  labels:\n    app: api\n", "  labels:\n    app: api\n  annotations:\n    example.com/owner: team-a\n", "cpu: 500m", "cpu: 250m", "containerPort: 8080", "containerPort: 8081"),
			live:    bare,
			opts: Options{Ignore: []IgnoreRule{
				{Pointer: "/spec/template/spec/containers/name=api/image"},
				{APIVersion: "apps/v1", Pointer: "/metadata/annotations/example.com~1owner"},
				{Pointer: "/spec/template/spec/containers/0/resources/requests"},
				{Pointer: "/spec/template/spec/containers/*/ports"},
			}},
			want: nil,
		},
		{
			name:    "an ignore rule with an empty pointer ignores the whole object",
			desired: docs(desiredDeployment, "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: api\n  namespace: shop\n"),
			live:    docs(edit(t, liveDeployment, "  replicas: 2\n  revisionHistoryLimit", "  replicas: 5\n  revisionHistoryLimit"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: leftover\n  namespace: shop\n  labels:\n    app: api\n"),
			opts:    Options{Selector: map[string]string{"app": "api"}, Ignore: []IgnoreRule{{Kind: "Deployment"}, {Kind: "ServiceAccount"}, {Kind: "ConfigMap", Namespace: "shop"}}},
			want:    nil,
		},
		{
			name:    "a live object matching the selector that is not rendered is an orphan",
			desired: desiredDeployment,
			live:    docs(liveDeployment, "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-old\n  namespace: shop\n  labels:\n    app: api\nspec:\n  clusterIP: 10.0.0.3\n", "apiVersion: v1\nkind: Service\nmetadata:\n  name: other\n  namespace: shop\n  labels:\n    app: other\n"),
			opts:    Options{Selector: map[string]string{"app": "api"}},
			want:    []string{"orphaned Service shop/api-old"},
		},
		{
			name:    "without a selector there are no orphans",
			desired: desiredDeployment,
			live:    docs(liveDeployment, "apiVersion: v1\nkind: Service\nmetadata:\n  name: api-old\n  namespace: shop\n  labels:\n    app: api\n"),
			want:    nil,
		},
		{
			name:    "objects that controllers create are not orphans",
			desired: docs(desiredDeployment, "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    app: api\nspec:\n  ports:\n  - port: 80\n", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  volumeClaimTemplates:\n  - metadata:\n      name: data\n"),
			live: docs(liveDeployment,
				"apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    app: api\nspec:\n  ports:\n  - port: 80\n",
				"apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  volumeClaimTemplates:\n  - metadata:\n      name: data\n",
				"apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: api-5d8f7c\n  namespace: shop\n  labels:\n    app: api\n  ownerReferences:\n  - apiVersion: apps/v1\n    kind: Deployment\n    name: api\n    uid: x\n    controller: true\n",
				"apiVersion: v1\nkind: Endpoints\nmetadata:\n  name: api\n  namespace: shop\n  labels:\n    app: api\n",
				"apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data-db-0\n  namespace: shop\n  labels:\n    app: api\n"),
			opts: Options{Selector: map[string]string{"app": "api"}},
			want: nil,
		},
		{
			name:    "service allocations and defaults are not drift unless the repository sets them",
			desired: "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  type: NodePort\n  selector:\n    app: api\n  ports:\n  - name: http\n    port: 80\n    targetPort: http\n",
			live:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"spec\":{\"clusterIP\":\"10.0.0.9\",\"ports\":[{\"port\":80,\"protocol\":\"TCP\"}]}}'\nspec:\n  type: NodePort\n  clusterIP: 10.0.0.10\n  clusterIPs: [10.0.0.10]\n  ipFamilies: [IPv4]\n  ipFamilyPolicy: SingleStack\n  internalTrafficPolicy: Cluster\n  externalTrafficPolicy: Cluster\n  sessionAffinity: None\n  selector:\n    app: api\n  ports:\n  - name: http\n    port: 80\n    protocol: TCP\n    targetPort: http\n    nodePort: 31234\n",
			want:    nil,
		},
		{
			name:    "service ports are matched by port and protocol",
			desired: "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  ports:\n  - name: dns\n    port: 53\n    protocol: UDP\n  - name: dns-tcp\n    port: 53\n    targetPort: 5353\n  clusterIP: 10.0.0.1\n",
			live:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  ports:\n  - name: dns-tcp\n    port: 53\n    protocol: TCP\n    targetPort: 53\n  - name: dns\n    port: 53\n    protocol: UDP\n    targetPort: 53\n  clusterIP: 10.0.0.2\n",
			want: []string{
				"changed Service shop/api",
				`~ spec.clusterIP: "10.0.0.2" → "10.0.0.1"`,
				`~ spec.ports[port=53,protocol=TCP].targetPort: 53 → 5353`,
			},
		},
		{
			name:    "a ConfigMap edited in place is drift, key by key",
			desired: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: shop\ndata:\n  LOG_LEVEL: info\n  MODE: fast\n",
			live:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: shop\ndata:\n  LOG_LEVEL: debug\n  MODE: fast\n  HAND_ADDED: \"yes\"\n",
			want: []string{
				"changed ConfigMap shop/app",
				`! data.HAND_ADDED: "yes"`,
				`~ data.LOG_LEVEL: "debug" → "info"`,
			},
		},
		{
			name:    "a custom resource is compared generically",
			desired: "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: api\n  endpoints:\n  - port: metrics\n    interval: 30s\n  - port: admin\n    interval: 60s\n",
			live:    "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: api\n  namespace: shop\n  generation: 2\nspec:\n  selector:\n    matchLabels:\n      app: api\n  endpoints:\n  - port: metrics\n    interval: 15s\n    scheme: http\n  - port: admin\n    interval: 60s\n  - port: debug\n",
			want: []string{
				"changed ServiceMonitor shop/api",
				`~ spec.endpoints[0].interval: "15s" → "30s"`,
				`! spec.endpoints[2]: {"port":"debug"}`,
			},
		},
		{
			name:    "custom resource lists whose items all have a name are matched by name",
			desired: "apiVersion: example.com/v1\nkind: Pipeline\nmetadata:\n  name: build\nspec:\n  steps:\n  - name: test\n    image: go:1.26\n  - name: lint\n    image: golangci\n",
			live:    "apiVersion: example.com/v1\nkind: Pipeline\nmetadata:\n  name: build\nspec:\n  steps:\n  - name: lint\n    image: golangci\n  - name: test\n    image: go:1.25\n",
			want: []string{
				"changed Pipeline build",
				`~ spec.steps[name=test].image: "go:1.25" → "go:1.26"`,
			},
		},
		{
			name:    "lists of scalars are compared whole",
			desired: edit(t, desiredDeployment, "        image: shop/api:1.0\n", "        image: shop/api:1.0\n        args: [serve, --port=8080]\n"),
			live:    edit(t, bare, "        image: shop/api:1.0\n", "        image: shop/api:1.0\n        args: [serve, --port=9090]\n"),
			want: []string{
				"changed Deployment shop/api",
				`~ spec.template.spec.containers[name=api].args: ["serve","--port=9090"] → ["serve","--port=8080"]`,
			},
		},
		{
			name:    "a value of another type is drift",
			desired: "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: a\nspec:\n  port: \"8080\"\n  on: true\n  ratio: 1.5\n",
			live:    "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: a\nspec:\n  port: 8080\n  on: \"true\"\n  ratio: 1.5\n",
			want: []string{
				"changed Thing a",
				`~ spec.on: "true" → true`,
				`~ spec.port: 8080 → "8080"`,
			},
		},
		{
			name:    "false and 0 in the repository equal fields the server omits",
			desired: "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  publishNotReadyAddresses: false\n  ports:\n  - port: 5432\n    nodePort: 0\n",
			live:    "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: shop\nspec:\n  ports:\n  - port: 5432\n    protocol: TCP\n",
			want:    nil,
		},
		{
			name:    "a kyaml reader annotation in the rendering is not drift",
			desired: edit(t, desiredDeployment, "  labels:\n    app: api\n", "  labels:\n    app: api\n  annotations:\n    config.kubernetes.io/index: \"3\"\n    internal.config.kubernetes.io/path: api.yaml\n"),
			live:    liveDeployment,
			want:    nil,
		},
		{
			name:    "items that admission adds to a bare Pod are not drift",
			desired: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: shop\nspec:\n  containers:\n  - name: sh\n    image: busybox\n    volumeMounts:\n    - name: data\n      mountPath: /data\n  volumes:\n  - name: data\n    emptyDir: {}\n  tolerations:\n  - key: dedicated\n    operator: Exists\n",
			live:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n  namespace: shop\nspec:\n  containers:\n  - name: sh\n    image: busybox\n    volumeMounts:\n    - name: data\n      mountPath: /data\n    - name: kube-api-access-x2v9k\n      mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n      readOnly: true\n  volumes:\n  - name: data\n    emptyDir: {}\n  - name: kube-api-access-x2v9k\n    projected:\n      sources:\n      - serviceAccountToken:\n          path: token\n  tolerations:\n  - key: dedicated\n    operator: Exists\n  - key: node.kubernetes.io/not-ready\n    operator: Exists\n    effect: NoExecute\n    tolerationSeconds: 300\n  nodeName: node-1\n",
			want:    nil,
		},
		{
			name:    "a finalizer that a controller adds is not drift, a declared one that is gone is",
			desired: "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: a\n  namespace: shop\n  finalizers:\n  - example.com/keep\n  - example.com/cleanup\n",
			live:    "apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: a\n  namespace: shop\n  finalizers:\n  - example.com/keep\n  - controller.example.com/protect\n",
			want:    []string{"changed Thing shop/a", `+ metadata.finalizers[example.com/cleanup]: "example.com/cleanup"`},
		},
		{
			name:    "a kind the cluster shows without namespace is cluster-scoped",
			desired: "apiVersion: example.com/v1\nkind: ClusterThing\nmetadata:\n  name: global\nspec:\n  size: 3\n",
			live:    "apiVersion: example.com/v1\nkind: ClusterThing\nmetadata:\n  name: global\nspec:\n  size: 3\n",
			opts:    Options{DefaultNamespace: "shop"},
			want:    nil,
		},
		{
			name:    "storage requests and LimitRange limits compare as quantities",
			desired: "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\nspec:\n  resources:\n    requests:\n      storage: 1Gi\n---\napiVersion: v1\nkind: LimitRange\nmetadata:\n  name: limits\n  namespace: shop\nspec:\n  limits:\n  - type: Container\n    default:\n      cpu: 0.5\n    max:\n      memory: 2Gi\n",
			live:    "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: data\n  namespace: shop\nspec:\n  volumeMode: Filesystem\n  resources:\n    requests:\n      storage: 1024Mi\n---\napiVersion: v1\nkind: LimitRange\nmetadata:\n  name: limits\n  namespace: shop\nspec:\n  limits:\n  - type: Container\n    default:\n      cpu: 500m\n    max:\n      memory: \"2147483648\"\n",
			want:    nil,
		},
		{
			name:    "quantities are strings elsewhere: ConfigMap values never compare as amounts",
			desired: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n  limit: 1000m\n",
			live:    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: shop\ndata:\n  limit: \"1\"\n",
			want:    []string{"changed ConfigMap shop/c", `~ data.limit: "1" → "1000m"`},
		},
		{
			name:    "an item removed from a list matched by index is drift when last-applied had it",
			desired: edit(t, desiredDeployment, "      containers:\n", "      tolerations:\n      - key: dedicated\n        operator: Exists\n      containers:\n"),
			live: edit(t, stripManagedFieldsOnly(t, liveDeployment),
				`"spec":{"containers"`, `"spec":{"tolerations":[{"key":"dedicated","operator":"Exists"},{"key":"spot","operator":"Exists"}],"containers"`,
				"      dnsPolicy:", "      tolerations:\n      - key: dedicated\n        operator: Exists\n      - key: spot\n        operator: Exists\n      dnsPolicy:"),
			want: []string{"changed Deployment shop/api", `- spec.template.spec.tolerations[1]: {"key":"spot","operator":"Exists"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustCompare(t, tt.desired, tt.live, tt.opts)
			checkOutline(t, outline(r, false), tt.want)
			if got, want := r.HasDrift(), len(tt.want) > 0; got != want {
				t.Errorf("HasDrift = %v, want %v", got, want)
			}
		})
	}
}

func stripManagedFieldsOnly(t testing.TB, live string) string {
	t.Helper()
	i := strings.Index(live, "  managedFields:\n")
	j := strings.Index(live, "\nspec:\n")
	return live[:i] + live[j+1:]
}

func stripLastAppliedOnly(t testing.TB, live string) string {
	t.Helper()
	i := strings.Index(live, "    kubectl.kubernetes.io/last-applied-configuration: |\n")
	j := strings.Index(live, "  managedFields:\n")
	return live[:i] + live[j:]
}
