package cli

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/envctl/envctl/internal/compose"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/progress"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/version"
	"github.com/envctl/envctl/internal/worker"
	"github.com/spf13/pflag"
)

// renderFlags are the flags of every command that renders environments.
type renderFlags struct {
	Timeout  time.Duration
	NoCache  bool
	CacheDir string
	Jobs     int
}

func (r *renderFlags) register(fs *pflag.FlagSet) {
	fs.DurationVar(&r.Timeout, "timeout", overlay.DefaultRemoteTimeout, "give up on a remote (git or http) base that is not fetched within this time")
	fs.BoolVar(&r.NoCache, "no-cache", false, "render from scratch: neither read nor write the render cache")
	fs.StringVar(&r.CacheDir, "cache-dir", "", "render cache directory (default $"+rendercache.EnvVar+", else the user cache directory)")
	fs.IntVarP(&r.Jobs, "jobs", "j", 0, "environments rendered at once (default: the number of cores)")
}

// parallelGCPercent is the GC target of a process that renders beside
// other renders (see renderTo).
const parallelGCPercent = 80

// effectiveJobs is how many renders run at once.
func effectiveJobs(jobs, envs int) int {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	return min(jobs, envs)
}

// render renders envs with the cache, parallelism and progress line.
func (r *renderFlags) render(ctx context.Context, f *Factory, envs []repo.Environment) ([]compose.Rendered, error) {
	return r.renderTo(ctx, f, envs, nil)
}

// renderTo is render that hands each environment to sink as it finishes
// (see compose.Request.Sink).
func (r *renderFlags) renderTo(ctx context.Context, f *Factory, envs []repo.Environment, sink func(compose.Rendered) error) ([]compose.Rendered, error) {
	if r.Timeout <= 0 {
		return nil, usageErrorf("--timeout must be positive, got %s", r.Timeout)
	}
	if r.Jobs < 0 {
		return nil, usageErrorf("--jobs must not be negative, got %d", r.Jobs)
	}
	req := compose.Request{
		FS:      f.FS,
		Envs:    envs,
		Options: overlay.Options{RemoteTimeout: r.Timeout},
		Jobs:    r.Jobs,
		Sink:    sink,
	}
	if !r.NoCache {
		dir := r.CacheDir
		if dir == "" {
			d, err := rendercache.DefaultDir()
			if err != nil {
				return nil, err
			}
			dir = d
		}
		req.Cache = rendercache.Open(dir, version.BuildID())
		req.CacheErrors = func(env string, err error) {
			warnf(f, "could not cache %s: %v", env, err)
		}
	}
	inProcess, err := envBool("ENVCTL_INPROCESS")
	if err != nil {
		return nil, err
	}
	minObjects, err := envCount("ENVCTL_WORKER_MIN_OBJECTS", worker.DefaultMinObjects)
	if err != nil {
		return nil, err
	}
	if effectiveJobs(r.Jobs, len(envs)) > 1 {
		if f.Self != "" && !inProcess {
			// argv0 "envctl": in testscript the test binary stands in for
			// envctl and dispatches on that name.
			req.RenderFunc = worker.New(f.Self, "envctl", minObjects).Render
		}
		if os.Getenv("GOGC") == "" {
			// Several renders' heaps are alive at once, in this process or
			// beside it in workers (which set the same). A slightly lower
			// GC target keeps their sum under twice one kustomize render's
			// (bench/, figure 5) and measured within this machine's noise
			// of the default (docs/status.md). GOGC in the environment
			// still wins.
			defer debug.SetGCPercent(debug.SetGCPercent(parallelGCPercent))
		}
	}
	line := progress.New(f.IO.ErrOut)
	if line != nil {
		req.Progress = func(ev compose.Event) {
			if ev.Start {
				line.Show("rendering %s… %d/%d environments", ev.Env, ev.Done, ev.Total)
			} else {
				line.Show("rendered %s… %d/%d environments", ev.Env, ev.Done, ev.Total)
			}
		}
		defer line.Clear()
	}
	return compose.Render(ctx, req)
}

// envBool reads a true/false environment variable; unset or empty is false.
func envBool(name string) (bool, error) {
	v := os.Getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: want true or false (1 or 0)", name, v)
	}
	return b, nil
}

// envCount reads a non-negative integer environment variable; unset or
// empty is def.
func envCount(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number of objects, 0 or more", name, v)
	}
	return n, nil
}
