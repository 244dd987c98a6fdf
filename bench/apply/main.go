// Command apply measures `envctl apply` against `kubectl apply
// --server-side` on generated environments (500 objects by default)
// applied to a real kube-apiserver (internal/testcluster) in the same run:
//
//  1. first apply of a fresh environment;
//  2. re-apply with nothing changed, counting the write requests each tool
//     sent with the API server's audit log;
//  3. envctl rollback of a release that changed every app's ConfigMap,
//     against the envctl apply that made that release;
//  4. envctl plan after five hand edits against kubectl diff --server-side;
//  5. peak memory (max RSS) of the first applies.
//
// envctl renders in process, so kustomize's render is counted in
// kubectl's time (kustomize build DIR > file, then kubectl apply -f file);
// memory is each applier's own. Neither tool waits for rollouts (the test
// server runs no controllers): envctl apply --no-wait.
//
//	bash hack/build-kube-apiserver.sh && go run ./bench/apply
package main

import (
	"bufio"
	"bytes"
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

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func medianInt(xs []int64) int64 {
	s := append([]int64(nil), xs...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// audit counts the requests in the audit log written since the last call.
type audit struct {
	path   string
	offset int64
}

// writes counts, by tool, the requests since the last call that change
// stored state: create, update, patch, delete. Dry runs and access or
// identity reviews (creates that store nothing) are counted apart.
func (a *audit) writes() (byTool map[string]int, reviews map[string]int) {
	f, err := os.Open(a.path)
	tools.Must(err)
	defer f.Close()
	_, err = f.Seek(a.offset, 0)
	tools.Must(err)
	byTool, reviews = map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var n int64
	for sc.Scan() {
		n += int64(len(sc.Bytes())) + 1
		var ev struct {
			Verb       string `json:"verb"`
			UserAgent  string `json:"userAgent"`
			RequestURI string `json:"requestURI"`
			Stage      string `json:"stage"`
			ObjectRef  struct {
				Resource string `json:"resource"`
			} `json:"objectRef"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Stage != "ResponseComplete" {
			continue
		}
		switch ev.Verb {
		case "create", "update", "patch", "delete", "deletecollection":
		default:
			continue
		}
		tool := strings.SplitN(ev.UserAgent, "/", 2)[0]
		if strings.HasPrefix(ev.ObjectRef.Resource, "self") || strings.Contains(ev.RequestURI, "dryRun=") {
			reviews[tool]++
			continue
		}
		byTool[tool]++
	}
	a.offset += n
	return byTool, reviews
}

const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  verbs: [create, update, patch, delete, deletecollection]
`

func main() {
	objects := flag.Int("objects", 500, "objects per generated environment")
	runs := flag.Int("runs", 3, "runs of each measurement (median reported); each first apply uses a fresh environment")
	flag.Parse()

	work, err := os.MkdirTemp("", "envctl-applybench-")
	tools.Must(err)
	defer os.RemoveAll(work)
	envctl, err := tools.BuildEnvctl(work)
	tools.Must(err)
	kustomize := tools.Kustomize()
	kubectl, err := testcluster.KubectlPath()
	tools.Must(err)

	policyFile := filepath.Join(work, "audit-policy.yaml")
	tools.Must(os.WriteFile(policyFile, []byte(policy), 0o600))
	auditLog := filepath.Join(work, "audit.log")
	c, err := testcluster.New(testcluster.Options{ExtraAPIServerArgs: []string{
		"--audit-policy-file=" + policyFile, "--audit-log-path=" + auditLog, "--audit-log-mode=blocking",
		// Room for every run's Services (the test default is a /24).
		"--service-cluster-ip-range=10.0.0.0/16",
	}})
	tools.Must(err)
	defer c.Stop()
	au := &audit{path: auditLog}

	repoDir := filepath.Join(work, "repo")
	// envctl applies env-00, env-02, ...; kubectl env-01, env-03, ...: each
	// first apply meets an empty namespace.
	tools.Must(gen.Write(repoDir, gen.Spec{Envs: 2 * *runs, Objects: *objects}))
	kc := []string{"KUBECONFIG=" + c.Kubeconfig, "ENVCTL_CACHE_DIR=" + filepath.Join(work, "cache")}

	fmt.Printf("machine: %s/%s, %d cores, %s; kube-apiserver %s; kubectl %s; %d objects\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), testcluster.KubeAPIServerVersion, tools.KubectlVersion(kubectl), *objects)

	envctlApply := func(env string, extra ...string) tools.Result {
		return tools.Run(repoDir, kc, 0, envctl, append([]string{"apply", env, "--context", testcluster.UserAdmin, "-n", env, "--yes", "--no-wait"}, extra...)...)
	}
	kubectlApply := func(env string) (tools.Result, tools.Result) {
		rendered := filepath.Join(work, env+".yaml")
		k := tools.Run(repoDir, nil, 0, kustomize, "build", "environments/"+env)
		tools.Must(os.WriteFile(rendered, []byte(k.Out), 0o600))
		return k, tools.Run(repoDir, kc, 0, kubectl, "apply", "--server-side", "-f", rendered)
	}

	var eFirst, kFirst, eRe, kRe []time.Duration
	var eRSS, kRSS []int64
	for i := 0; i < *runs; i++ {
		ee, ke := fmt.Sprintf("env-%02d", 2*i), fmt.Sprintf("env-%02d", 2*i+1)
		tools.Run(repoDir, kc, 0, kubectl, "create", "namespace", ee)
		tools.Run(repoDir, kc, 0, kubectl, "create", "namespace", ke)
		// Alternate which tool goes first: this machine's speed drifts.
		var er, kb, kr tools.Result
		if i%2 == 0 {
			er = envctlApply(ee)
			kb, kr = kubectlApply(ke)
		} else {
			kb, kr = kubectlApply(ke)
			er = envctlApply(ee)
		}
		eFirst, kFirst = append(eFirst, er.Wall), append(kFirst, kb.Wall+kr.Wall)
		eRSS, kRSS = append(eRSS, er.MaxRSS), append(kRSS, kr.MaxRSS)
	}
	au.writes() // the first applies' writes are not the re-applies'
	for i := 0; i < *runs; i++ {
		ee, ke := fmt.Sprintf("env-%02d", 2*i), fmt.Sprintf("env-%02d", 2*i+1)
		er := envctlApply(ee)
		kb, kr := kubectlApply(ke)
		eRe, kRe = append(eRe, er.Wall), append(kRe, kb.Wall+kr.Wall)
	}
	writes, reviews := au.writes()

	fmt.Printf("\n1. first apply of %d objects (median of %d, fresh namespace each)\n", *objects, *runs)
	fmt.Printf("   envctl apply --no-wait              %7.3fs\n", median(eFirst).Seconds())
	fmt.Printf("   kustomize build + kubectl apply --server-side %7.3fs\n", median(kFirst).Seconds())
	fmt.Printf("   envctl %.1fx faster (goal >= 4x)\n", median(kFirst).Seconds()/median(eFirst).Seconds())

	fmt.Printf("\n2. re-apply, nothing changed (median of %d)\n", *runs)
	fmt.Printf("   envctl apply                        %7.3fs  write requests: %d (plus %d dry runs or reviews) in %d runs\n", median(eRe).Seconds(), writes["envctl"], reviews["envctl"], *runs)
	fmt.Printf("   kustomize build + kubectl apply --server-side %7.3fs  write requests: %d in %d runs\n", median(kRe).Seconds(), writes["kubectl"], *runs)
	fmt.Printf("   envctl %.1fx faster (goal >= 10x, and no writes)\n", median(kRe).Seconds()/median(eRe).Seconds())

	// 3. A change to every app's ConfigMap (a new generation each, every
	// Deployment rolls), then the rollback of it.
	var eChange, eBack []time.Duration
	for i := 0; i < *runs; i++ {
		env := fmt.Sprintf("env-%02d", 2*i)
		kf := filepath.Join(repoDir, "base", "kustomization.yaml")
		data, err := os.ReadFile(kf)
		tools.Must(err)
		tools.Must(os.WriteFile(kf, bytes.ReplaceAll(data, []byte("LOG_LEVEL=info"), []byte(fmt.Sprintf("LOG_LEVEL=info-%d", i))), 0o600))
		eChange = append(eChange, envctlApply(env).Wall)
		tools.Must(os.WriteFile(kf, data, 0o600))
		eBack = append(eBack, tools.Run(repoDir, kc, 0, envctl, "rollback", env, "--context", testcluster.UserAdmin, "-n", env, "--yes", "--no-wait").Wall)
	}
	fmt.Printf("\n3. every app's ConfigMap changed, then rolled back (median of %d)\n", *runs)
	fmt.Printf("   envctl apply of the change          %7.3fs\n", median(eChange).Seconds())
	fmt.Printf("   envctl rollback                     %7.3fs  (%.2fx the apply; goal <= 1x)\n", median(eBack).Seconds(), median(eBack).Seconds()/median(eChange).Seconds())

	// 4. A plan after five hand edits on an environment envctl applied:
	// one dry run per changed object, none for the others.
	env := "env-00"
	rendered := filepath.Join(work, env+".yaml")
	tools.Run(repoDir, kc, 0, kubectl, "-n", env, "scale", "deployment/svc-0001", "--replicas=7")
	tools.Run(repoDir, kc, 0, kubectl, "-n", env, "set", "image", "deployment/svc-0002", "app=example/app:hotfix")
	tools.Run(repoDir, kc, 0, kubectl, "-n", env, "delete", "service", "svc-0003")
	tools.Run(repoDir, kc, 0, kubectl, "-n", env, "annotate", "deployment", "svc-0004", "--overwrite", "example.com/x=y")
	tools.Run(repoDir, kc, 0, kubectl, "-n", env, "patch", "deployment", "svc-0005", "--type=json", "-p", `[{"op":"replace","path":"/spec/template/spec/containers/0/ports/0/containerPort","value":9090}]`)
	var ePlan, kDiff []time.Duration
	var planOut string
	for i := 0; i < *runs; i++ {
		r := tools.Run(repoDir, kc, 0, envctl, "plan", env, "--context", testcluster.UserAdmin, "-n", env, "--force-conflicts", "-o", filepath.Join(work, "plan.json"))
		ePlan, planOut = append(ePlan, r.Wall), r.Out
		k := tools.Run(repoDir, nil, 0, kustomize, "build", "environments/"+env)
		tools.Must(os.WriteFile(rendered, []byte(k.Out), 0o600))
		kd := tools.Run(repoDir, kc, 1, kubectl, "diff", "--server-side", "--force-conflicts", "--field-manager", "envctl", "-f", rendered)
		kDiff = append(kDiff, k.Wall+kd.Wall)
	}
	summary := ""
	for _, l := range strings.Split(planOut, "\n") {
		if strings.Contains(l, " to create, ") {
			summary = strings.TrimSpace(l)
		}
	}
	fmt.Printf("\n4. plan after five hand edits (median of %d)\n", *runs)
	fmt.Printf("   envctl plan                         %7.3fs  (%s)\n", median(ePlan).Seconds(), summary)
	fmt.Printf("   kustomize build + kubectl diff --server-side %7.3fs\n", median(kDiff).Seconds())
	fmt.Printf("   envctl %.1fx faster (goal >= 3x)\n", median(kDiff).Seconds()/median(ePlan).Seconds())

	fmt.Printf("\n5. peak memory of the first apply (max RSS, median of %d)\n", *runs)
	fmt.Printf("   envctl apply                        %7.1f MiB\n", float64(medianInt(eRSS))/1024)
	fmt.Printf("   kubectl apply --server-side         %7.1f MiB\n", float64(medianInt(kRSS))/1024)
	fmt.Printf("   ratio %.2fx (goal <= 1.5x)\n", float64(medianInt(eRSS))/float64(medianInt(kRSS)))
}
