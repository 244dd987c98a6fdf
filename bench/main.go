// Command bench measures envctl against the kustomize CLI on the same
// trees in the same run and prints each time, the ratios and peak memory.
//
//	go run ./bench                       # all scenarios, 10 envs x 2,000 objects
//	go run ./bench -envs 4 -objects 500  # a quicker run
//	go run ./bench -scenarios 2,5 -rounds 3  # scenario 2 three times, median ratio
//	go run ./bench -scenarios 2 -parallel    # also kustomize run one per core at a time
//
// Scenarios:
//  1. one example environment (environments/prod), cold: envctl build --no-cache
//     vs kustomize build, median of -runs runs each;
//  2. a generated repository, cold: envctl build --all -o DIR with an empty
//     cache vs a loop of kustomize build over the environments;
//  3. the same after editing one value in one environment;
//  4. the same with nothing changed;
//  5. peak memory of scenario 2's envctl --all, over all its processes, vs
//     kustomize's largest single-environment peak, by PSS and by RSS.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/envctl/envctl/bench/gen"
	"github.com/envctl/envctl/bench/internal/tools"
	"github.com/envctl/envctl/internal/secrets"
)

type run struct {
	wall time.Duration
	// cpu is user+system time of the command and the children it waited
	// for: with wall time it shows how much of the machine a run got.
	cpu time.Duration
	// Peak memory of the command's whole process tree, KiB (see sampleTree).
	rss, pss int64
	out      []byte
}

func execute(dir string, env []string, name string, args ...string) (run, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	peak, err := tools.Measure(cmd)
	if err != nil {
		return run{}, err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run{}, err
	}
	stopSampling := sampleTree(cmd.Process.Pid, 20*time.Millisecond)
	err = cmd.Wait()
	wall := time.Since(start)
	rss, pss := stopSampling()
	if err != nil {
		return run{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	// The top process's own Maxrss is exact where sampling can miss a
	// short peak, and it is never more than the tree's (the tree here
	// includes peakrss, a few MiB).
	p, err := peak()
	if err != nil {
		return run{}, err
	}
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return run{wall: wall, cpu: cpu, rss: max(rss, p.RSS), pss: pss, out: stdout.Bytes()}, nil
}

func median(rs []run) run {
	sort.Slice(rs, func(i, j int) bool { return rs[i].wall < rs[j].wall })
	return rs[len(rs)/2]
}

func findKustomize() string {
	if p := os.Getenv("ENVCTL_KUSTOMIZE"); p != "" {
		return p
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "kustomize")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("kustomize"); err == nil {
		return p
	}
	tools.Must(fmt.Errorf("kustomize CLI not found: go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2"))
	return ""
}

func main() {
	envs := flag.Int("envs", 10, "environments in the generated repository")
	objects := flag.Int("objects", 2000, "objects per generated environment")
	runs := flag.Int("runs", 5, "runs per tool for scenario 1 (median reported)")
	example := flag.String("example", "environments/prod", "example environment for scenario 1, relative to the repository root")
	noPGO := flag.Bool("nopgo", false, "also time, in scenario 2, an envctl built with -pgo=off (what default.pgo buys)")
	parallel := flag.Bool("parallel", false, "also time, in scenario 2, kustomize build run as many at a time as there are cores: what this machine gives parallel renders in that round, whatever the tool")
	rounds := flag.Int("rounds", 1, "cold rounds of scenario 2, alternately envctl or the kustomize loop first (median ratio reported; this machine's speed drifts between runs)")
	only := flag.String("scenarios", "1,2,3,4,5", "scenarios to run (3 and 4 need 2; 5 reports 2's memory)")
	flag.Parse()
	want := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		want[strings.TrimSpace(s)] = true
	}

	root, err := os.Getwd()
	tools.Must(err)
	work, err := os.MkdirTemp("", "envctl-bench-")
	tools.Must(err)
	defer os.RemoveAll(work)
	envctl := filepath.Join(work, "envctl")
	build := exec.Command("go", "build", "-o", envctl, "./cmd/envctl")
	build.Stderr = os.Stderr
	tools.Must(build.Run())
	var envctlNoPGO string
	if *noPGO {
		envctlNoPGO = filepath.Join(work, "envctl-nopgo")
		build := exec.Command("go", "build", "-pgo=off", "-o", envctlNoPGO, "./cmd/envctl")
		build.Stderr = os.Stderr
		tools.Must(build.Run())
	}
	kustomize := findKustomize()
	kv, _ := exec.Command(kustomize, "version").Output()

	fmt.Printf("machine: %s/%s, %d cores, %s; kustomize %s", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), kv)
	// go build picks up cmd/envctl/default.pgo; say so, since it is part
	// of what is measured.
	info, _ := exec.Command("go", "version", "-m", envctl).Output()
	fmt.Printf("envctl: built with profile-guided optimisation: %v\n", bytes.Contains(info, []byte("-pgo=")))

	// 1. one example environment, cold.
	if want["1"] {
		scenario1(root, envctl, kustomize, *example, *runs)
	}
	if !want["2"] {
		return
	}
	// 2-5. the generated repository.
	repo := filepath.Join(work, "repo")
	tools.Must(gen.Write(repo, gen.Spec{Envs: *envs, Objects: *objects}))
	names := make([]string, *envs)
	for i := range names {
		names[i] = fmt.Sprintf("env-%02d", i)
	}
	cacheDir := filepath.Join(work, "cache")
	cache := []string{"ENVCTL_CACHE_DIR=" + cacheDir}
	out := filepath.Join(work, "out")
	loop := func() (run, run, map[string][]byte) {
		var total run
		var peak run // the largest single environment's memory
		outs := map[string][]byte{}
		for _, n := range names {
			r, err := execute(repo, nil, kustomize, "build", "environments/"+n)
			tools.Must(err)
			total.wall += r.wall
			total.cpu += r.cpu
			peak.rss, peak.pss = max(peak.rss, r.rss), max(peak.pss, r.pss)
			outs[n] = r.out
		}
		return total, peak, outs
	}
	// parLoop is the loop with as many kustomize processes at a time as
	// there are cores: no tool that renders with the kustomize library can
	// beat it by much, so it tells the machine's share of a round's result
	// from envctl's.
	parLoop := func() run {
		next := make(chan string)
		done := make(chan struct{})
		start := time.Now()
		for range runtime.NumCPU() {
			go func() {
				defer func() { done <- struct{}{} }()
				for n := range next {
					_, err := execute(repo, nil, kustomize, "build", "environments/"+n)
					tools.Must(err)
				}
			}()
		}
		for _, n := range names {
			next <- n
		}
		close(next)
		for range runtime.NumCPU() {
			<-done
		}
		return run{wall: time.Since(start)}
	}
	check := func(want map[string][]byte) bool {
		for n, w := range want {
			got, err := os.ReadFile(filepath.Join(out, n+".yaml"))
			if err != nil || !bytes.Equal(got, w) {
				return false
			}
		}
		return true
	}
	type result struct {
		envctl  run
		loop    run
		loopMem run
		par     run // zero unless -parallel
		same    bool
	}
	// loopFirst alternates the order between cold rounds: this machine's
	// speed drifts over minutes, and always timing envctl first would lean
	// every round the same way.
	// The parallel loop, when timed, runs between the other two, so that
	// it is next to both.
	measure := func(loopFirst, withPar bool) result {
		var lt, lpeak, par run
		var want map[string][]byte
		if loopFirst {
			lt, lpeak, want = loop()
		}
		if withPar && loopFirst {
			par = parLoop()
		}
		r, err := execute(repo, cache, envctl, "build", "--all", "-o", out)
		tools.Must(err)
		if withPar && !loopFirst {
			par = parLoop()
		}
		if !loopFirst {
			lt, lpeak, want = loop()
		}
		return result{envctl: r, loop: lt, loopMem: lpeak, par: par, same: check(want)}
	}
	report := func(title string, goal float64, r result) {
		fmt.Printf("\n%s (%d environments x %d objects)\n", title, *envs, *objects)
		fmt.Printf("   envctl build --all -o DIR  %8.3fs  cpu %8.3fs  peak RSS %7.1f MiB, PSS %7.1f MiB (all processes)\n", r.envctl.wall.Seconds(), r.envctl.cpu.Seconds(), mib(r.envctl.rss), mib(r.envctl.pss))
		fmt.Printf("   loop of kustomize build    %8.3fs  cpu %8.3fs  peak RSS %7.1f MiB, PSS %7.1f MiB (largest single environment)\n", r.loop.wall.Seconds(), r.loop.cpu.Seconds(), mib(r.loopMem.rss), mib(r.loopMem.pss))
		if r.par.wall > 0 {
			fmt.Printf("   kustomize build, %d at a time %6.3fs  (the loop / this: %.2fx)\n", runtime.NumCPU(), r.par.wall.Seconds(), r.loop.wall.Seconds()/r.par.wall.Seconds())
		}
		fmt.Printf("   speed-up: %.2fx (goal >= %gx); identical output: %v\n", r.loop.wall.Seconds()/r.envctl.wall.Seconds(), goal, r.same)
	}
	var colds []result
	for i := 0; i < max(1, *rounds); i++ {
		tools.Must(os.RemoveAll(cacheDir))
		r := measure(i%2 == 1, *parallel)
		title := "2. generated repository, cold cache"
		if *rounds > 1 {
			title += fmt.Sprintf(", round %d of %d", i+1, *rounds)
		}
		report(title, 1.5, r)
		colds = append(colds, r)
		if envctlNoPGO != "" {
			// Its own cache: the two binaries have different build ids, and
			// scenarios 3 and 4 need the profiled binary's entries.
			npCache := cacheDir + "-nopgo"
			tools.Must(os.RemoveAll(npCache))
			np, err := execute(repo, []string{"ENVCTL_CACHE_DIR=" + npCache}, envctlNoPGO, "build", "--all", "-o", out)
			tools.Must(err)
			fmt.Printf("   envctl built -pgo=off      %8.3fs  peak %7.1f MiB; speed-up %.2fx; with the profile %.2fx faster\n",
				np.wall.Seconds(), mib(np.rss), r.loop.wall.Seconds()/np.wall.Seconds(), np.wall.Seconds()/r.envctl.wall.Seconds())
		}
	}
	speedups := make([]float64, len(colds))
	rssRatios := make([]float64, len(colds))
	pssRatios := make([]float64, len(colds))
	for i, r := range colds {
		speedups[i] = r.loop.wall.Seconds() / r.envctl.wall.Seconds()
		rssRatios[i] = float64(r.envctl.rss) / float64(r.loopMem.rss)
		pssRatios[i] = float64(r.envctl.pss) / float64(r.loopMem.pss)
	}
	if len(colds) > 1 {
		fmt.Printf("\n2. cold speed-up over %d rounds: median %.2fx, range %.2fx-%.2fx (goal >= 1.5x)\n",
			len(colds), medianf(speedups), slices.Min(speedups), slices.Max(speedups))
		if *parallel {
			par := make([]float64, len(colds))
			vs := make([]float64, len(colds))
			for i, r := range colds {
				par[i] = r.loop.wall.Seconds() / r.par.wall.Seconds()
				vs[i] = r.par.wall.Seconds() / r.envctl.wall.Seconds()
			}
			fmt.Printf("   kustomize %d at a time over the loop: median %.2fx, range %.2fx-%.2fx\n", runtime.NumCPU(), medianf(par), slices.Min(par), slices.Max(par))
			fmt.Printf("   envctl over kustomize %d at a time: median %.2fx, range %.2fx-%.2fx\n", runtime.NumCPU(), medianf(vs), slices.Min(vs), slices.Max(vs))
		}
	}

	k3 := filepath.Join(repo, "environments", names[len(names)/2], "kustomization.yaml")
	b, err := os.ReadFile(k3)
	tools.Must(err)
	tools.Must(os.WriteFile(k3, bytes.Replace(b, []byte("LOG_LEVEL=debug"), []byte("LOG_LEVEL=trace"), 1), 0o644))
	if want["3"] {
		report("3. after editing one value in "+names[len(names)/2], 8, measure(false, false))
	}
	if want["4"] {
		report("4. nothing changed", 100, measure(false, false))
	}

	c := colds[0]
	fmt.Printf("\n5. peak memory, envctl --all cold (all its processes) vs kustomize for one environment (goal <= 2x)\n")
	fmt.Printf("   PSS: %.1f MiB vs %.1f MiB: %.2fx\n", mib(c.envctl.pss), mib(c.loopMem.pss), pssRatios[0])
	fmt.Printf("   RSS: %.1f MiB vs %.1f MiB: %.2fx (counts the executable's shared pages once per process)\n", mib(c.envctl.rss), mib(c.loopMem.rss), rssRatios[0])
	if len(colds) > 1 {
		fmt.Printf("   over %d rounds: PSS median %.2fx, range %.2fx-%.2fx; RSS median %.2fx, range %.2fx-%.2fx\n", len(colds),
			medianf(pssRatios), slices.Min(pssRatios), slices.Max(pssRatios), medianf(rssRatios), slices.Min(rssRatios), slices.Max(rssRatios))
	}
}

func scenario1(root, envctl, kustomize, example string, runs int) {
	// The example's prod reads SOPS-encrypted secrets: envctl decrypts
	// them with the example's keys, and kustomize, which cannot, renders a
	// copy whose SOPS files are decrypted (the same bytes come out).
	keys := []string{"SOPS_AGE_KEY_FILE=" + filepath.Join(root, "example-keys", "age-keys.txt")}
	plain, cleanup := decryptedCopy(root)
	defer cleanup()
	var e, k []run
	for i := 0; i < runs; i++ {
		r, err := execute(root, keys, envctl, "build", example, "--no-cache")
		tools.Must(err)
		e = append(e, r)
		r, err = execute(plain, nil, kustomize, "build", example)
		tools.Must(err)
		k = append(k, r)
	}
	em, km := median(e), median(k)
	same := bytes.Equal(em.out, km.out)
	fmt.Printf("\n1. %s, cold (median of %d)\n", example, runs)
	fmt.Printf("   envctl build --no-cache  %8.3fs  peak RSS %6.1f MiB\n", em.wall.Seconds(), mib(em.rss))
	fmt.Printf("   kustomize build          %8.3fs  peak RSS %6.1f MiB\n", km.wall.Seconds(), mib(km.rss))
	fmt.Printf("   envctl/kustomize time: %.3fx (goal <= 1.05x); identical output: %v\n", em.wall.Seconds()/km.wall.Seconds(), same)
}

func medianf(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

// decryptedCopy copies the example's base, components and environments
// into a temporary directory with every SOPS file decrypted (with the
// example's keys), for the kustomize CLI, which cannot decrypt.
func decryptedCopy(root string) (string, func()) {
	dir, err := os.MkdirTemp("", "envctl-bench-plain-")
	tools.Must(err)
	os.Setenv("SOPS_AGE_KEY_FILE", filepath.Join(root, "example-keys", "age-keys.txt"))
	for _, top := range []string{"base", "components", "environments"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if data, err = secrets.Plaintext(p, data); err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			dst := filepath.Join(dir, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o600)
		})
		tools.Must(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}
