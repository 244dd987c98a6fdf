package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/yaml"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/manifest"
)

// deploy/drift-job/rbac.yaml is `envctl rbac --all`'s output, so the
// drift job's grant cannot fall behind the environments: a new kind or
// namespace fails this test until the file is regenerated (with
// `envctl rbac --all > deploy/drift-job/rbac.yaml`, or -update here) and
// the new permission is reviewed in the diff.
func TestDriftJobRBACIsCurrent(t *testing.T) {
	root, _ := filepath.Abs("../..")
	got := buildInProcess(t, "rbac", "--all", "--repo", root, "--no-cache")
	file := filepath.Join(root, "deploy", "drift-job", "rbac.yaml")
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale: regenerate it with\n  envctl rbac --all > deploy/drift-job/rbac.yaml\nand review the new permissions; envctl rbac --all prints:\n%s", file, got)
	}
}

// The drift job's kustomization builds, and what it deploys keeps its
// promises: its own objects in envctl-system, the Roles in the
// environments' namespaces (a kustomization namespace: would move them),
// bound to the job's service account, get and list only; a writable /tmp
// under a read-only root; the image pulled on every run.
func TestDriftJobKustomizationBuilds(t *testing.T) {
	root, _ := filepath.Abs("../..")
	out := buildInProcess(t, "build", filepath.Join(root, "deploy", "drift-job"), "--repo", root, "--no-cache")
	objs, err := manifest.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string][]string{}
	for _, o := range objs {
		kinds[o.GetKind()] = append(kinds[o.GetKind()], o.GetNamespace()+"/"+o.GetName())
		switch o.GetKind() {
		case "ServiceAccount", "CronJob":
			if o.GetNamespace() != "envctl-system" {
				t.Errorf("%s %s is in namespace %q, want envctl-system", o.GetKind(), o.GetName(), o.GetNamespace())
			}
		case "Role", "ClusterRole":
			if o.GetKind() == "Role" && !strings.HasPrefix(o.GetNamespace(), "storefront-") {
				t.Errorf("Role %s is in namespace %q, want an environment's", o.GetName(), o.GetNamespace())
			}
			rules, _ := o.Pipe(yaml.Lookup("rules"))
			els, _ := rules.Elements()
			for _, r := range els {
				for _, field := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs"} {
					vals, _ := r.GetSlice(field)
					for _, v := range vals {
						s := v.(string)
						if s == "*" || strings.Contains(s, "/") || field == "verbs" && s != "get" && s != "list" || field == "nonResourceURLs" {
							t.Errorf("%s %s/%s: %s: %q", o.GetKind(), o.GetNamespace(), o.GetName(), field, s)
						}
					}
				}
			}
		case "RoleBinding", "ClusterRoleBinding":
			ns, _ := o.GetString("subjects[0].namespace")
			name, _ := o.GetString("subjects[0].name")
			if ns+"/"+name != "envctl-system/envctl-drift" {
				t.Errorf("%s %s/%s binds %s/%s, want the job's service account envctl-system/envctl-drift", o.GetKind(), o.GetNamespace(), o.GetName(), ns, name)
			}
		}
	}
	for _, k := range []string{"Namespace", "ServiceAccount", "Role", "RoleBinding", "CronJob"} {
		if len(kinds[k]) == 0 {
			t.Errorf("no %s in the drift job", k)
		}
	}
	if got := kinds["Role"]; !slices.Equal(got, []string{"storefront-dev/envctl-drift-reader", "storefront-prod/envctl-drift-reader", "storefront-staging/envctl-drift-reader"}) {
		t.Errorf("Roles = %v", got)
	}

	var job *yaml.RNode
	for _, o := range objs {
		if o.GetKind() == "CronJob" {
			job = o
		}
	}
	if job == nil {
		t.Fatal("no CronJob")
	}
	spec, err := job.Pipe(yaml.Lookup("spec", "jobTemplate", "spec", "template", "spec"))
	if err != nil || spec == nil {
		t.Fatal("CronJob has no pod spec")
	}
	for path, want := range map[string]string{
		"containers[0].image":                                  "ghcr.io/envctl-example/envctl-drift:latest-main",
		"containers[0].imagePullPolicy":                        "Always",
		"containers[0].securityContext.readOnlyRootFilesystem": "true",
		"containers[0].volumeMounts[0].mountPath":              "/tmp",
		"volumes[0].name":                                      "tmp",
		"securityContext.runAsNonRoot":                         "true",
		"securityContext.runAsUser":                            "65532",
	} {
		v, _ := spec.GetFieldValue(path)
		if got := fmt.Sprint(v); got != want {
			t.Errorf("CronJob pod spec %s = %q, want %q", path, got, want)
		}
	}
	if ed, _ := spec.Pipe(yaml.Lookup("volumes", "[name=tmp]", "emptyDir")); ed == nil {
		t.Error("the tmp volume is not an emptyDir")
	}
}

// The drift workflow keeps the promises its header makes: every action
// pinned by commit, checkout without persisted credentials, the clusters
// read by one envctl diff, and no action run while the kubeconfig exists.
func TestDriftWorkflow(t *testing.T) {
	root, _ := filepath.Abs("../..")
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "drift.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string            `json:"name"`
				Uses string            `json:"uses"`
				Run  string            `json:"run"`
				With map[string]any    `json:"with"`
				Env  map[string]string `json:"env"`
			} `json:"steps"`
		} `json:"jobs"`
	}
	if err := sigsyaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	pinned := regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40}$`)
	diffRun := regexp.MustCompile(`envctl"? diff`)
	for name, job := range wf.Jobs {
		diffs, written := 0, false
		for i, s := range job.Steps {
			if s.Uses != "" {
				if !pinned.MatchString(s.Uses) {
					t.Errorf("%s: step %d uses %s: not pinned by commit", name, i, s.Uses)
				}
				if strings.HasPrefix(s.Uses, "actions/checkout@") && s.With["persist-credentials"] != false {
					t.Errorf("%s: checkout without persist-credentials: false", name)
				}
				if written {
					t.Errorf("%s: step %d (%s) runs while the kubeconfig exists", name, i, s.Uses)
				}
			}
			if strings.Contains(s.Run, "> \"$RUNNER_TEMP/kubeconfig\"") {
				written = true
			}
			if strings.Contains(s.Run, "rm -f \"$RUNNER_TEMP/kubeconfig\"") {
				written = false
			}
			n := len(diffRun.FindAllString(s.Run, -1))
			diffs += n
			if n > 0 && (!strings.Contains(s.Run, "--report junit=") || !strings.Contains(s.Run, "--report markdown=")) {
				t.Errorf("%s: envctl diff does not write both the JUnit and the markdown report", name)
			}
		}
		if diffs != 1 {
			t.Errorf("%s: %d envctl diff runs, want 1 (the clusters read once)", name, diffs)
		}
	}
}
