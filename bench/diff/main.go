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
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/envctl/envctl/bench/gen"
	"github.com/envctl/envctl/bench/internal/tools"
	"github.com/envctl/envctl/internal/testcluster"
)

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type result struct {
	wall time.Duration
	code int
	out  string
}

func run(dir string, env []string, name string, args ...string) result {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), out: out.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		must(err)
	}
	if r.code > 1 {
		must(fmt.Errorf("%s %v exited %d: %s", name, args, r.code, errb.String()))
	}
	return r
}

func median(rs []result) result {
	sort.Slice(rs, func(i, j int) bool { return rs[i].wall < rs[j].wall })
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
	must(json.Unmarshal([]byte(out), &rep))
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
	must(err)
	defer os.RemoveAll(work)
	envctl, err := tools.BuildEnvctl(work)
	must(err)
	kustomize := tools.Kustomize()
	kubectl, err := testcluster.KubectlPath()
	must(err)

	c, err := testcluster.New(testcluster.Options{})
	must(err)
	defer c.Stop()

	repoDir := filepath.Join(work, "repo")
	// Two copies of the environment: env-00 is applied client-side and
	// compared with kubectl diff, env-01 server-side and compared with
	// kubectl diff --server-side, each tool's own baseline.
	must(gen.Write(repoDir, gen.Spec{Envs: 2, Objects: *objects}))
	kc := []string{"KUBECONFIG=" + c.Kubeconfig}

	fmt.Printf("machine: %s/%s, %d cores, %s; kube-apiserver %s; kubectl %s; %d objects\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), testcluster.KubeAPIServerVersion, tools.KubectlVersion(kubectl), *objects)

	cacheDir := filepath.Join(work, "cache")
	phase := func(env string, serverSide bool) {
		envDir := "environments/" + env
		run(repoDir, kc, kubectl, "create", "namespace", env)
		rendered := filepath.Join(work, env+".yaml")
		must(os.WriteFile(rendered, []byte(run(repoDir, nil, kustomize, "build", envDir).out), 0o644))
		kubectlName, kubectlDiff := "kubectl diff (client-side)", ""
		if serverSide {
			run(repoDir, kc, kubectl, "apply", "--server-side", "-f", rendered)
			kubectlName, kubectlDiff = "kubectl diff --server-side", "--server-side --field-manager=kubectl --force-conflicts"
		} else {
			run(repoDir, kc, kubectl, "apply", "-f", rendered)
		}
		measure := func(title string, expected []string) {
			fmt.Printf("\n%s, %s (expected drift: %d objects)\n", env, title, len(expected))
			envctlRun := func() result {
				return run(repoDir, append(kc, "ENVCTL_CACHE_DIR="+cacheDir), envctl, "diff", env, "--context", testcluster.UserAdmin, "-n", env, "-o", "json")
			}
			type tool struct {
				name string
				fn   func() result
				objs func(string) []string
			}
			tools := []tool{
				{"envctl diff (cold render cache)", func() result { os.RemoveAll(cacheDir); return envctlRun() }, envctlObjects},
				{"envctl diff (warm render cache)", envctlRun, envctlObjects},
				{kubectlName, func() result {
					return run(repoDir, kc, "sh", "-c", fmt.Sprintf("%s build %s | %s diff %s -f -", kustomize, envDir, kubectl, kubectlDiff))
				}, kubectlObjects},
			}
			want := strings.Join(expected, ",")
			var times []time.Duration
			for _, t := range tools {
				var rs []result
				for i := 0; i < *runs; i++ {
					rs = append(rs, t.fn())
				}
				m := median(rs)
				got := t.objs(m.out)
				exact := strings.Join(got, ",") == want
				fmt.Printf("   %-34s %8.3fs  exit %d  reported %3d objects  exactly the expected: %v\n", t.name, m.wall.Seconds(), m.code, len(got), exact)
				if !exact && len(got) < 20 {
					fmt.Printf("      reported: %v\n", got)
				}
				times = append(times, m.wall)
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
		run(repoDir, kc, kubectl, "-n", env, "scale", "deployment/svc-0001", "--replicas=7")
		run(repoDir, kc, kubectl, "-n", env, "set", "image", "deployment/svc-0002", "app=example/app:hotfix")
		run(repoDir, kc, kubectl, "-n", env, "delete", "service", "svc-0003")
		var cm4 string
		for _, l := range strings.Split(run(repoDir, kc, kubectl, "-n", env, "get", "configmap", "-o", "name").out, "\n") {
			if strings.Contains(l, "svc-0004-config-") {
				cm4 = strings.TrimPrefix(strings.TrimSpace(l), "configmap/")
			}
		}
		run(repoDir, kc, kubectl, "-n", env, "patch", "configmap", cm4, "--type=merge", "-p", `{"data":{"LOG_LEVEL":"trace"}}`)
		run(repoDir, kc, kubectl, "-n", env, "patch", "deployment", "svc-0005", "--type=json", "-p", `[{"op":"replace","path":"/spec/template/spec/containers/0/ports/0/containerPort","value":9090}]`)
		expected := []string{"ConfigMap/" + cm4, "Deployment/svc-0001", "Deployment/svc-0002", "Deployment/svc-0005", "Service/svc-0003"}
		sort.Strings(expected)
		measure("after 5 mutations (scale, image, delete, ConfigMap edit, port)", expected)
	}
	phase("env-00", false)
	phase("env-01", true)
}
