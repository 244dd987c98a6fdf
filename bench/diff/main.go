// Command diff measures `envctl diff` against `kubectl diff` (client-side,
// its default) and `kubectl diff --server-side` on a generated 500-object
// environment applied to a real kube-apiserver (internal/testcluster), in
// the same run, with the same kubeconfig and objects. envctl's render is
// counted in its time and kustomize's in kubectl's (kustomize build DIR |
// kubectl diff -f -). It measures after a fresh apply and after a set of
// mutations, and checks that each tool reported exactly the expected drift.
//
//	bash hack/build-kube-apiserver.sh && go run ./bench/diff
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/envctl/envctl/bench/gen"
	"github.com/envctl/envctl/bench/internal/tools"
	"github.com/envctl/envctl/internal/testcluster"
)

func median(rs []tools.Result) tools.Result {
	sort.Slice(rs, func(i, j int) bool { return rs[i].Wall < rs[j].Wall })
	return rs[len(rs)/2]
}

// kubectlObjects extracts the objects kubectl diff reports from its diff
// headers: "diff -u -N /tmp/LIVE-1/apps.v1.Deployment.env-00.svc-0001 ...".
func kubectlObjects(out string) []string {
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "diff -u -N ") {
			continue
		}
		f := strings.Fields(line)[3]
		base := filepath.Base(f) // group.version.Kind.namespace.name
		parts := strings.Split(base, ".")
		if len(parts) < 4 {
			continue
		}
		kind, name := parts[len(parts)-3], parts[len(parts)-1]
		seen[kind+"/"+name] = true
	}
	return sorted(seen)
}

func envctlObjects(out string) []string {
	var rep struct {
		Environments []struct {
			Objects []struct {
				ID      struct{ Kind, Name string } `json:"id"`
				Status  string                      `json:"status"`
				Renamed *struct{ Base string }      `json:"renamed"`
			} `json:"objects"`
		} `json:"environments"`
	}
	tools.Must(json.Unmarshal([]byte(out), &rep))
	seen := map[string]bool{}
	for _, r := range rep.Environments {
		for _, o := range r.Objects {
			if o.Status != "in-sync" {
				seen[o.ID.Kind+"/"+o.ID.Name] = true
			}
		}
	}
	return sorted(seen)
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func main() {
	objects := flag.Int("objects", 500, "objects in the generated environment")
	runs := flag.Int("runs", 3, "runs per measurement (median reported)")
	flag.Parse()

	work, err := os.MkdirTemp("", "envctl-diffbench-")
	tools.Must(err)
	defer os.RemoveAll(work)
	envctl, err := tools.BuildEnvctl(work)
	tools.Must(err)
	kustomize := tools.Kustomize()
	kubectl, err := testcluster.KubectlPath()
	tools.Must(err)

	c, err := testcluster.New(testcluster.Options{})
	tools.Must(err)
	defer c.Stop()

	repoDir := filepath.Join(work, "repo")
	// Two copies of the environment: env-00 is applied client-side and
	// compared with kubectl diff, env-01 server-side and compared with
	// kubectl diff --server-side, each tool's own baseline.
	tools.Must(gen.Write(repoDir, gen.Spec{Envs: 2, Objects: *objects}))
	kc := []string{"KUBECONFIG=" + c.Kubeconfig}

	fmt.Printf("machine: %s/%s, %d cores, %s; kube-apiserver %s; kubectl %s; %d objects\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), testcluster.KubeAPIServerVersion, tools.KubectlVersion(kubectl), *objects)

	cacheDir := filepath.Join(work, "cache")
	phase := func(env string, serverSide bool) {
		envDir := "environments/" + env
		tools.Run(repoDir, kc, 1, kubectl, "create", "namespace", env)
		rendered := filepath.Join(work, env+".yaml")
		tools.Must(os.WriteFile(rendered, []byte(tools.Run(repoDir, nil, 1, kustomize, "build", envDir).Out), 0o644))
		kubectlName, kubectlDiff := "kubectl diff (client-side)", ""
		if serverSide {
			tools.Run(repoDir, kc, 1, kubectl, "apply", "--server-side", "-f", rendered)
			kubectlName, kubectlDiff = "kubectl diff --server-side", "--server-side --field-manager=kubectl --force-conflicts"
		} else {
			tools.Run(repoDir, kc, 1, kubectl, "apply", "-f", rendered)
		}
		measure := func(title string, expected []string) {
			fmt.Printf("\n%s, %s (expected drift: %d objects)\n", env, title, len(expected))
			envctlRun := func() tools.Result {
				return tools.Run(repoDir, append(kc, "ENVCTL_CACHE_DIR="+cacheDir), 1, envctl, "diff", env, "--context", testcluster.UserAdmin, "-n", env, "-o", "json")
			}
			type tool struct {
				name string
				fn   func() tools.Result
				objs func(string) []string
			}
			contenders := []tool{
				{"envctl diff (cold render cache)", func() tools.Result { os.RemoveAll(cacheDir); return envctlRun() }, envctlObjects},
				{"envctl diff (warm render cache)", envctlRun, envctlObjects},
				{kubectlName, func() tools.Result {
					return tools.Run(repoDir, kc, 1, "sh", "-c", fmt.Sprintf("%s build %s | %s diff %s -f -", kustomize, envDir, kubectl, kubectlDiff))
				}, kubectlObjects},
			}
			want := strings.Join(expected, ",")
			var times []time.Duration
			for _, t := range contenders {
				var rs []tools.Result
				for i := 0; i < *runs; i++ {
					rs = append(rs, t.fn())
				}
				m := median(rs)
				got := t.objs(m.Out)
				exact := strings.Join(got, ",") == want
				fmt.Printf("   %-34s %8.3fs  exit %d  reported %3d objects  exactly the expected: %v\n", t.name, m.Wall.Seconds(), m.Code, len(got), exact)
				if !exact && len(got) < 20 {
					fmt.Printf("      reported: %v\n", got)
				}
				times = append(times, m.Wall)
			}
			goalCold, goalWarm := 10.0, 10.0
			if serverSide {
				goalCold = 2
			}
			fmt.Printf("   envctl cold: %.1fx faster than %s (goal >= %gx); warm: %.1fx (goal >= %gx)\n",
				times[2].Seconds()/times[0].Seconds(), kubectlName, goalCold, times[2].Seconds()/times[1].Seconds(), goalWarm)
		}
		measure("after a fresh apply", nil)

		// Mutations a person makes by hand; every one is drift.
		tools.Run(repoDir, kc, 1, kubectl, "-n", env, "scale", "deployment/svc-0001", "--replicas=7")
		tools.Run(repoDir, kc, 1, kubectl, "-n", env, "set", "image", "deployment/svc-0002", "app=example/app:hotfix")
		tools.Run(repoDir, kc, 1, kubectl, "-n", env, "delete", "service", "svc-0003")
		var cm4 string
		for _, l := range strings.Split(tools.Run(repoDir, kc, 1, kubectl, "-n", env, "get", "configmap", "-o", "name").Out, "\n") {
			if strings.Contains(l, "svc-0004-config-") {
				cm4 = strings.TrimPrefix(strings.TrimSpace(l), "configmap/")
			}
		}
		tools.Run(repoDir, kc, 1, kubectl, "-n", env, "patch", "configmap", cm4, "--type=merge", "-p", `{"data":{"LOG_LEVEL":"trace"}}`)
		tools.Run(repoDir, kc, 1, kubectl, "-n", env, "patch", "deployment", "svc-0005", "--type=json", "-p", `[{"op":"replace","path":"/spec/template/spec/containers/0/ports/0/containerPort","value":9090}]`)
		expected := []string{"ConfigMap/" + cm4, "Deployment/svc-0001", "Deployment/svc-0002", "Deployment/svc-0005", "Service/svc-0003"}
		sort.Strings(expected)
		measure("after 5 mutations (scale, image, delete, ConfigMap edit, port)", expected)
	}
	phase("env-00", false)
	phase("env-01", true)
}
