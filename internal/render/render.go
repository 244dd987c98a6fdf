package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/version"
	"github.com/envctl/envctl/internal/worker"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Environment variables that tune where renders run. They are read here,
// not in the CLI, because they are rendering policy: every command that
// renders gets the same behaviour.
const (
	// EnvInProcess=1 keeps every render in this process.
	EnvInProcess = "ENVCTL_INPROCESS"
	// EnvWorkerMinObjects moves the size from which a render that runs
	// beside another gets a worker process (worker.DefaultMinObjects).
	EnvWorkerMinObjects = "ENVCTL_WORKER_MIN_OBJECTS"
)

// ParallelGCPercent is the GC target of a process that renders beside
// other renders. Several renders' heaps are alive at once, in this process
// or beside it in workers (which set the same). A slightly lower target
// keeps their sum under twice one kustomize render's (bench/, figure 5)
// and measured within this machine's noise of the default
// (docs/status.md). GOGC in the environment still wins.
const ParallelGCPercent = 80

// Request says what to render and how.
type Request struct {
	FS   filesys.FileSystem
	Envs []repo.Environment
	// Timeout bounds a render from the moment it meets a remote (git or
	// http) base; 0 means overlay.DefaultRemoteTimeout.
	Timeout time.Duration
	// NoDecrypt renders SOPS-encrypted sources with placeholder values
	// (overlay.Options.NoDecrypt).
	NoDecrypt bool
	// Cache is consulted before and filled after each render; nil disables
	// it (see OpenCache).
	Cache *rendercache.Cache
	// Root is the repository root: errors name files relative to it.
	Root string
	// Jobs bounds concurrent renders; 0 means the number of cores.
	Jobs int
	// Worker is the envctl executable that parallel renders of large
	// environments run in (package worker); "" keeps every render in this
	// process.
	Worker string
	// Progress, if set, is called as environments start and finish.
	Progress func(Event)
	// CacheErrors, if set, receives failures to store a render. They never
	// fail the build: the cache is an optimisation.
	CacheErrors func(env string, err error)
	// Sink, if set, receives each environment as soon as it is rendered,
	// one call at a time, and Render then drops its YAML (Result.YAML is
	// nil in what Render returns): memory stays at what the renders in
	// flight need however many environments there are. An error from Sink
	// fails that environment.
	Sink func(Rendered) error
	// RenderFunc renders one directory on a cache miss, for tests; nil
	// means overlay.Render, in this process or a worker.
	RenderFunc func(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options) (*overlay.Result, error)
}

// Event is a progress report.
type Event struct {
	Env   string // the environment that started or finished
	Done  int    // environments finished so far
	Total int
	Start bool // true when Env starts, false when it finishes
}

// Rendered is one environment's output.
type Rendered struct {
	Env    repo.Environment
	Result *overlay.Result
	// Cached is true when the result came from the render cache.
	Cached bool
}

// Render renders every requested environment. Every environment is
// attempted; the error joins all failures in environment-name order, and
// no output is returned unless all succeeded.
func Render(ctx context.Context, req Request) ([]Rendered, error) {
	jobs := req.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	// The variables are checked whatever runs, so a typo in CI fails on
	// the first run rather than on the first parallel one.
	pool, err := workers(req.Worker)
	if err != nil {
		return nil, err
	}
	if min(jobs, len(req.Envs)) > 1 {
		if pool != nil && req.RenderFunc == nil {
			req.RenderFunc = pool.Render
		}
		if os.Getenv("GOGC") == "" {
			defer debug.SetGCPercent(debug.SetGCPercent(ParallelGCPercent))
		}
	}
	out := make([]Rendered, len(req.Envs))
	errs := make([]error, len(req.Envs))
	var mu sync.Mutex
	done := 0
	report := func(env string, start bool) {
		if req.Progress == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if !start {
			done++
		}
		req.Progress(Event{Env: env, Done: done, Total: len(req.Envs), Start: start})
	}

	var sinkMu sync.Mutex
	var g errgroup.Group
	g.SetLimit(jobs)
	for i, env := range req.Envs {
		g.Go(func() error {
			report(env.Name, true)
			defer report(env.Name, false)
			out[i], errs[i] = renderOne(ctx, req, env)
			if errs[i] == nil && req.Sink != nil {
				sinkMu.Lock()
				errs[i] = req.Sink(out[i])
				sinkMu.Unlock()
				// A copy, so a cached Result shared elsewhere keeps its YAML.
				r := *out[i].Result
				r.YAML = nil
				out[i].Result = &r
			}
			return nil
		})
	}
	_ = g.Wait()

	var failed []error
	idx := make([]int, 0, len(errs))
	for i := range errs {
		idx = append(idx, i)
	}
	sort.Slice(idx, func(a, b int) bool { return req.Envs[idx[a]].Name < req.Envs[idx[b]].Name })
	for _, i := range idx {
		if errs[i] != nil {
			failed = append(failed, errs[i])
		}
	}
	if len(failed) > 0 {
		return nil, errors.Join(failed...)
	}
	return out, nil
}

func renderOne(ctx context.Context, req Request, env repo.Environment) (Rendered, error) {
	key := ""
	if req.Cache != nil {
		key = req.Cache.Key(env.Path, req.options())
		if r, ok := req.Cache.Get(req.FS, key); ok {
			return Rendered{Env: env, Result: r, Cached: true}, nil
		}
	}
	render := req.RenderFunc
	if render == nil {
		render = overlay.Render
	}
	r, err := render(ctx, req.FS, env.Path, req.options())
	if err != nil {
		var oe *overlay.Error
		if errors.As(err, &oe) {
			oe.RelativeTo(req.Root)
			if oe.Secret {
				oe.Env = env.Name
			}
		}
		return Rendered{}, err
	}
	if req.Cache != nil {
		if err := req.Cache.Put(key, env.Path, r); err != nil && req.CacheErrors != nil {
			req.CacheErrors(env.Name, err)
		}
	}
	return Rendered{Env: env, Result: r}, nil
}

func (req Request) options() overlay.Options {
	return overlay.Options{RemoteTimeout: req.Timeout, NoDecrypt: req.NoDecrypt}
}

// workers is the pool parallel renders use, or nil to keep them in this
// process.
func workers(self string) (*worker.Pool, error) {
	inProcess, err := envBool(EnvInProcess)
	if err != nil {
		return nil, err
	}
	minObjects, err := envCount(EnvWorkerMinObjects, worker.DefaultMinObjects)
	if err != nil {
		return nil, err
	}
	if self == "" || inProcess {
		return nil, nil
	}
	// argv0 "envctl": in testscript the test binary stands in for envctl
	// and dispatches on that name.
	return worker.New(self, "envctl", minObjects), nil
}

// ServeWorker is a worker process's side of a parallel render: it renders
// dir with the GC target of a process that renders beside others.
func ServeWorker(ctx context.Context, fsys filesys.FileSystem, dir string, opts overlay.Options, w io.Writer) error {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(ParallelGCPercent)
	}
	return worker.Serve(ctx, fsys, dir, opts, w)
}

// OpenCache opens the render cache in dir, or in the default directory
// ($ENVCTL_CACHE_DIR, else the user cache directory) when dir is "".
// Entries are keyed by this build, so a new envctl never reads an old
// one's renders, and expire after $ENVCTL_CACHE_MAX_AGE unused (default
// 30 days). A directory that is not safe to use is a
// *rendercache.UnsafeError.
func OpenCache(dir string) (*rendercache.Cache, error) {
	if dir == "" {
		d, err := rendercache.DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	var maxAge time.Duration
	if v := os.Getenv(rendercache.MaxAgeEnvVar); v != "" {
		d, err := rendercache.ParseMaxAge(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rendercache.MaxAgeEnvVar, err)
		}
		maxAge = d
	}
	c := rendercache.Open(dir, version.BuildID(), maxAge)
	if err := c.Ready(); err != nil {
		return nil, err
	}
	return c, nil
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
