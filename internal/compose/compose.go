package compose

import (
	"context"
	"errors"
	"runtime"
	"sort"
	"sync"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
	"golang.org/x/sync/errgroup"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Request says what to render and how.
type Request struct {
	FS      filesys.FileSystem
	Envs    []repo.Environment
	Options overlay.Options
	// Cache is consulted before and filled after each render; nil disables it.
	Cache *rendercache.Cache
	// Jobs bounds concurrent renders; 0 means the number of cores.
	Jobs int
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
	// RenderFunc renders one directory on a cache miss; nil means
	// overlay.Render in this process.
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
		key = req.Cache.Key(env.Path, req.Options)
		if r, ok := req.Cache.Get(req.FS, key); ok {
			return Rendered{Env: env, Result: r, Cached: true}, nil
		}
	}
	render := req.RenderFunc
	if render == nil {
		render = overlay.Render
	}
	r, err := render(ctx, req.FS, env.Path, req.Options)
	if err != nil {
		return Rendered{}, err
	}
	if req.Cache != nil {
		if err := req.Cache.Put(key, env.Path, r); err != nil && req.CacheErrors != nil {
			req.CacheErrors(env.Name, err)
		}
	}
	return Rendered{Env: env, Result: r}, nil
}
