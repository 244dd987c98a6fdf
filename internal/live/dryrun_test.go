package live

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/testcluster"
)

func objects(t *testing.T, docs ...string) []*unstructured.Unstructured {
	t.Helper()
	var out []*unstructured.Unstructured
	for _, d := range docs {
		var m map[string]any
		if err := yaml.Unmarshal([]byte(d), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// TestDryRunReportsWhatOnlyTheServerKnows sends objects to a real API
// server with a ValidatingAdmissionPolicy (CEL, built in: no webhook
// server needed) that denies one of them, and checks that the denial,
// the API server's own validation and a kind it does not serve come back
// as refusals of the right objects, with the server's messages, and that
// nothing is stored.
func TestDryRunReportsWhatOnlyTheServerKnows(t *testing.T) {
	c := testcluster.Shared(t)
	ns := c.Namespace(t, "dryrun")
	c.KubectlInput(t, `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: no-forbidden-keys-`+ns+`}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE, UPDATE]
        resources: [configmaps]
  validations:
    - expression: "!has(object.data) || !('forbidden' in object.data)"
      message: ConfigMaps may not carry a key named forbidden
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: no-forbidden-keys-`+ns+`}
spec:
  policyName: no-forbidden-keys-`+ns+`
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {kubernetes.io/metadata.name: `+ns+`}
`, "apply", "-f", "-")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cl, err := (&Clusters{Options: ConnectOptions{Kubeconfig: c.Kubeconfig}}).Connect(ctx, testcluster.UserAdmin)
	if err != nil {
		t.Fatal(err)
	}
	objs := objects(t,
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}\ndata: {a: b}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: denied}\ndata: {forbidden: x}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: -1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n",
		"apiVersion: example.com/v1\nkind: NotServed\nmetadata: {name: x}\n",
	)
	// The policy takes effect once the API server's admission plugin has
	// seen it; until then the denied ConfigMap passes.
	var results []DryRunResult
	for {
		results, err = cl.DryRun(ctx, ns, objs)
		if err != nil {
			t.Fatal(err)
		}
		if len(results[1].Refused) > 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(results[0].Refused) != 0 {
		t.Errorf("fine: refused %v", results[0].Refused)
	}
	if r := results[1].Refused; len(r) != 1 || !strings.Contains(r[0].Message, "ConfigMaps may not carry a key named forbidden") {
		t.Errorf("denied: %v", r)
	}
	if r := results[2].Refused; len(r) != 1 || r[0].Field != "spec.replicas" || !strings.Contains(r[0].Message, "must be greater than or equal to 0") {
		t.Errorf("web: %v", r)
	}
	if r := results[3].Refused; len(r) != 1 || !strings.Contains(r[0].Message, "does not serve example.com/v1 NotServed") {
		t.Errorf("NotServed: %v", r)
	}
	if out := c.Kubectl(t, "get", "configmaps", "-n", ns, "-o", "name"); strings.Contains(out, "fine") {
		t.Errorf("a dry run stored an object: %s", out)
	}

	// Read-only access is not enough, and the error says what is.
	c.KubectlInput(t, `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: read, namespace: `+ns+`}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: `+ns+`}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: read}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: reader}]
`, "apply", "-f", "-")
	reader, err := (&Clusters{Options: ConnectOptions{Kubeconfig: c.Kubeconfig}}).Connect(ctx, testcluster.UserReader)
	if err != nil {
		t.Fatal(err)
	}
	_, err = reader.DryRun(ctx, ns, objs[:1])
	var fe *ForbiddenError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "needs the verbs get, create, patch") {
		t.Fatalf("reader: %v", err)
	}
}
