package drift

import (
	"fmt"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// parseObjects reads a multi-document YAML stream.
func parseObjects(t testing.TB, docs string) []*yaml.RNode {
	t.Helper()
	if strings.TrimSpace(docs) == "" {
		return nil
	}
	nodes, err := kio.FromBytes([]byte(docs))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, docs)
	}
	return nodes
}

// edit applies replacements old→new in turn; each old must occur.
func edit(t testing.TB, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not found in\n%s", pairs[i], s)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func docs(parts ...string) string { return strings.Join(parts, "\n---\n") }

// outline renders a report compactly for table tests: one line per object
// that is not in sync ("changed Deployment shop/api"), then one line per
// change ("~ spec.replicas: 2 → 3", "+ path: new", "- path: old",
// "! path: old [managers]"), with "(rolls: …)" notes.
func outline(r *Report, withInSync bool) []string {
	var out []string
	for _, o := range r.Objects {
		if (o.Status == StatusInSync || o.Status == StatusUnchanged) && !withInSync {
			continue
		}
		line := fmt.Sprintf("%s %s %s", o.Status, o.ID.Kind, o.ID.NamespacedName())
		if o.Renamed != nil {
			line += fmt.Sprintf(" renamed %s→%s", o.Renamed.From, o.Renamed.To)
		}
		for _, r := range o.Rolls {
			line += " rolls " + r.Kind + "/" + r.Name
		}
		if o.SupersededBy != "" {
			line += " superseded by " + o.SupersededBy
		}
		out = append(out, line)
		for _, c := range o.Changes {
			var l string
			switch c.Kind {
			case FieldChanged:
				l = fmt.Sprintf("~ %s: %v → %v", c.Path, c.Old, c.New)
			case FieldAdded:
				l = fmt.Sprintf("+ %s: %v", c.Path, c.New)
			case FieldRemoved:
				l = fmt.Sprintf("- %s: %v", c.Path, c.Old)
			case FieldExtra:
				l = fmt.Sprintf("! %s: %v", c.Path, c.Old)
				if len(c.Managers) > 0 {
					l += " " + fmt.Sprint(c.Managers)
				}
			}
			if c.FollowsRename != nil {
				l += " (follows " + c.FollowsRename.Kind + " rename)"
			}
			out = append(out, l)
		}
	}
	return out
}

func mustCompare(t testing.TB, desired, live string, opts Options) *Report {
	t.Helper()
	r, err := Compare(parseObjects(t, desired), parseObjects(t, live), opts)
	if err != nil {
		t.Fatalf("Compare: %v", err)
	}
	return r
}

func checkOutline(t *testing.T, got []string, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("report:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// Fixtures: a Deployment as the repository renders it, and as the API
// server returns it after a client-side apply (defaults, status,
// managedFields, last-applied-configuration).

const desiredDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  labels:
    app: api
spec:
  replicas: 2
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: shop/api:1.0
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        resources:
          limits:
            cpu: "1"
            memory: 1Gi
          requests:
            cpu: 500m
            memory: 512Mi
`

const liveDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  namespace: shop
  uid: 0b7d1c52-4a3e-4f0e-9a7c-1d2e3f4a5b6c
  resourceVersion: "48213"
  generation: 3
  creationTimestamp: "2025-01-02T03:04:05Z"
  labels:
    app: api
  annotations:
    deployment.kubernetes.io/revision: "3"
    kubectl.kubernetes.io/last-applied-configuration: |
      {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"labels":{"app":"api"},"name":"api","namespace":"shop"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"api"}},"template":{"metadata":{"labels":{"app":"api"}},"spec":{"containers":[{"env":[{"name":"LOG_LEVEL","value":"info"}],"image":"shop/api:1.0","name":"api","ports":[{"containerPort":8080,"name":"http"}],"resources":{"limits":{"cpu":"1","memory":"1Gi"},"requests":{"cpu":"500m","memory":"512Mi"}}}]}}}}
  managedFields:
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:annotations:
          .: {}
          f:kubectl.kubernetes.io/last-applied-configuration: {}
        f:labels:
          .: {}
          f:app: {}
      f:spec:
        f:replicas: {}
        f:selector: {}
        f:template:
          f:metadata:
            f:labels:
              .: {}
              f:app: {}
          f:spec:
            f:containers:
              k:{"name":"api"}:
                .: {}
                f:env:
                  .: {}
                  k:{"name":"LOG_LEVEL"}:
                    .: {}
                    f:name: {}
                    f:value: {}
                f:image: {}
                f:name: {}
                f:ports:
                  .: {}
                  k:{"containerPort":8080,"protocol":"TCP"}:
                    .: {}
                    f:containerPort: {}
                    f:name: {}
                f:resources:
                  .: {}
                  f:limits:
                    .: {}
                    f:cpu: {}
                    f:memory: {}
                  f:requests:
                    .: {}
                    f:cpu: {}
                    f:memory: {}
    manager: kubectl-client-side-apply
    operation: Update
    time: "2025-01-02T03:04:05Z"
  - apiVersion: apps/v1
    fieldsType: FieldsV1
    fieldsV1:
      f:metadata:
        f:annotations:
          f:deployment.kubernetes.io/revision: {}
      f:status:
        f:replicas: {}
    manager: kube-controller-manager
    operation: Update
    subresource: status
    time: "2025-01-02T03:04:09Z"
spec:
  progressDeadlineSeconds: 600
  replicas: 2
  revisionHistoryLimit: 10
  selector:
    matchLabels:
      app: api
  strategy:
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 25%
    type: RollingUpdate
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: api
    spec:
      containers:
      - env:
        - name: LOG_LEVEL
          value: info
        image: shop/api:1.0
        imagePullPolicy: IfNotPresent
        name: api
        ports:
        - containerPort: 8080
          name: http
          protocol: TCP
        resources:
          limits:
            cpu: "1"
            memory: 1Gi
          requests:
            cpu: 500m
            memory: 512Mi
        terminationMessagePath: /dev/termination-log
        terminationMessagePolicy: File
      dnsPolicy: ClusterFirst
      restartPolicy: Always
      schedulerName: default-scheduler
      securityContext: {}
      terminationGracePeriodSeconds: 30
status:
  availableReplicas: 2
  observedGeneration: 3
  readyReplicas: 2
  replicas: 2
  updatedReplicas: 2
`
