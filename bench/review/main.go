// Command review measures issue 15's figure: `envctl diff --all --rev
// HEAD~1` on a generated repository (10 environments x 2,000 objects)
// where one environment's input changed between HEAD~1 and HEAD, with the
// render cache warm for HEAD~1, against one cold render of that
// environment (`envctl build ENV --no-cache`; the goal is at most 1.2x),
// and against what a reviewer does without envctl: `kustomize build` of
// every environment at both revisions piped to `diff`, in the same run.
//
//	go run ./bench/review [-rounds 3] [-peer all|one|none]
package main

import (
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
)

// run runs a command in dir and returns its wall time and exit code;
// exit codes above maxOK fail the bench.
func run(dir string, env []string, maxOK int, name string, args ...string) (time.Duration, int, string) {
	r := tools.Run(dir, env, maxOK, name, args...)
	return r.Wall, r.Code, r.Out
}

func git(dir string, args ...string) {
	env := []string{"GIT_AUTHOR_NAME=bench", "GIT_AUTHOR_EMAIL=bench@example.com", "GIT_COMMITTER_NAME=bench", "GIT_COMMITTER_EMAIL=bench@example.com", "GIT_CONFIG_GLOBAL=/dev/null"}
	run(dir, env, 0, "git", args...)
}

func main() {
	envs := flag.Int("envs", 10, "environments")
	objects := flag.Int("objects", 2000, "objects per environment")
	rounds := flag.Int("rounds", 3, "rounds, each timing the cold render and the diff back to back (alternating which goes first)")
	peer := flag.String("peer", "all", "kustomize build of both revisions piped to diff: all environments, one (the changed one) or none")
	flag.Parse()

	work, err := os.MkdirTemp("", "envctl-reviewbench-")
	tools.Must(err)
	defer os.RemoveAll(work)
	envctl, err := tools.BuildEnvctl(work)
	tools.Must(err)
	kustomize := tools.Kustomize()
	kv, _ := exec.Command(kustomize, "version").Output()
	fmt.Printf("machine: %s/%s, %d cores, %s; kustomize %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), kv)

	repoDir := filepath.Join(work, "repo")
	tools.Must(gen.Write(repoDir, gen.Spec{Envs: *envs, Objects: *objects}))
	git(repoDir, "init", "-q", "-b", "main")
	git(repoDir, "add", "-A")
	git(repoDir, "commit", "-q", "-m", "before")
	// One environment's input changes: a new image tag (every Deployment
	// rolls) and a debug level in its config.
	changed := "env-03"
	kfile := filepath.Join(repoDir, "environments", changed, "kustomization.yaml")
	k, err := os.ReadFile(kfile)
	tools.Must(err)
	k2 := strings.Replace(strings.Replace(string(k), `newTag: "1.3.0"`, `newTag: "1.3.1"`, 1), "LOG_LEVEL=debug", "LOG_LEVEL=trace", 1)
	if k2 == string(k) {
		tools.Must(fmt.Errorf("%s: nothing to change", kfile))
	}
	tools.Must(os.WriteFile(kfile, []byte(k2), 0o644))
	git(repoDir, "commit", "-q", "-am", "after")

	// A cache warm for HEAD~1: build every environment at HEAD~1, in this
	// directory (so the paths are the same), then back to HEAD.
	warm := filepath.Join(work, "cache-warm")
	git(repoDir, "checkout", "-q", "HEAD~1")
	d, _, _ := run(repoDir, []string{"ENVCTL_CACHE_DIR=" + warm}, 0, envctl, "build", "--all", "-o", filepath.Join(work, "out-before"))
	fmt.Printf("warming the cache for HEAD~1 (build --all): %.1f s\n", d.Seconds())
	git(repoDir, "checkout", "-q", "main")

	var ratios []float64
	for r := 0; r < *rounds; r++ {
		// Each round starts from the HEAD~1-warm cache: the changed
		// environment's HEAD render is cold every time.
		cache := filepath.Join(work, fmt.Sprintf("cache-%d", r))
		_, _, _ = run(work, nil, 0, "cp", "-a", warm, cache)
		var cold, diff time.Duration
		var out string
		timeCold := func() {
			cold, _, _ = run(repoDir, nil, 0, envctl, "build", changed, "--no-cache")
		}
		timeDiff := func() {
			var code int
			diff, code, out = run(repoDir, []string{"ENVCTL_CACHE_DIR=" + cache}, 1, envctl, "diff", "--all", "--rev", "HEAD~1")
			if code != 1 {
				tools.Must(fmt.Errorf("diff --rev exited %d, want 1 (changes)", code))
			}
		}
		if r%2 == 0 {
			timeCold()
			timeDiff()
		} else {
			timeDiff()
			timeCold()
		}
		ratio := diff.Seconds() / cold.Seconds()
		ratios = append(ratios, ratio)
		fmt.Printf("round %d: diff --all --rev HEAD~1 %.2f s, cold build %s %.2f s: %.2fx (goal <= 1.2x)\n", r+1, diff.Seconds(), changed, cold.Seconds(), ratio)
		if r == 0 {
			lines := strings.Split(strings.TrimSpace(out), "\n")
			var summary []string
			for _, l := range lines {
				if strings.Contains(l, " against HEAD~1: ") {
					summary = append(summary, l)
				}
			}
			fmt.Printf("  %s\n", strings.Join(summary, "\n  "))
		}
		os.RemoveAll(cache)
	}
	sort.Float64s(ratios)
	fmt.Printf("median ratio %.2fx (%.2fx-%.2fx) over %d rounds\n", ratios[len(ratios)/2], ratios[0], ratios[len(ratios)-1], len(ratios))

	if *peer == "none" {
		return
	}
	// The peer: a checkout of HEAD~1 beside the working tree, kustomize
	// build of each environment at both, and diff.
	old := filepath.Join(work, "old")
	git(repoDir, "worktree", "add", "-q", "--detach", old, "HEAD~1")
	list := []string{changed}
	if *peer == "all" {
		list = nil
		for e := 0; e < *envs; e++ {
			list = append(list, fmt.Sprintf("env-%02d", e))
		}
	}
	start := time.Now()
	changedEnvs := 0
	for _, env := range list {
		script := fmt.Sprintf("diff <(%s build %s/environments/%s) <(%s build %s/environments/%s) > /dev/null", kustomize, old, env, kustomize, repoDir, env)
		_, code, _ := run(work, nil, 1, "bash", "-c", script)
		changedEnvs += code
	}
	peerTime := time.Since(start)
	fmt.Printf("peer: kustomize build of %d environment(s) at both revisions piped to diff: %.1f s (%d with changes, as envctl's)\n", len(list), peerTime.Seconds(), changedEnvs)
}
