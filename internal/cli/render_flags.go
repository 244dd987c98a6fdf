package cli

import (
	"context"
	"errors"
	"time"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/progress"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/rendercache"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/secrets"
	"github.com/spf13/pflag"
)

// renderFlags are the flags of every command that renders environments.
type renderFlags struct {
	Timeout  time.Duration
	NoCache  bool
	CacheDir string
	Jobs     int
	// NoDecrypt renders SOPS-encrypted sources with placeholder values.
	NoDecrypt bool

	timeoutFlag string
}

func (r *renderFlags) register(fs *pflag.FlagSet) { r.registerAs(fs, "timeout") }

// registerAs names the remote-base timeout flag timeoutFlag: commands
// whose --timeout bounds something else (apply's wait) call it
// --render-timeout.
func (r *renderFlags) registerAs(fs *pflag.FlagSet, timeoutFlag string) {
	r.timeoutFlag = timeoutFlag
	fs.DurationVar(&r.Timeout, timeoutFlag, overlay.DefaultRemoteTimeout, "give up on a remote (git or http) base that is not fetched within this time")
	fs.BoolVar(&r.NoCache, "no-cache", false, "render from scratch: neither read nor write the render cache")
	fs.StringVar(&r.CacheDir, "cache-dir", "", "render cache directory (default $"+rendercache.EnvVar+", else the user cache directory)")
	fs.IntVarP(&r.Jobs, "jobs", "j", 0, "environments rendered at once (default: the number of cores)")
	fs.BoolVar(&r.NoDecrypt, "no-decrypt", false, "render SOPS-encrypted secret sources with placeholder values, without keys (Secret names are then not the real ones)")
}

// refuseNoDecrypt is the error of a command that compares or deploys
// Secrets when --no-decrypt is given: placeholders cannot be compared
// with, or applied to, a cluster.
func (r *renderFlags) refuseNoDecrypt(command string) error {
	if !r.NoDecrypt {
		return nil
	}
	return usageErrorf("--no-decrypt: %s cannot work on placeholder Secrets (their values and names are not the real ones); use it with build or validate", command)
}

// request maps the flags to a render request for envs. sink, if not nil,
// receives each environment as it is rendered (render.Request.Sink).
func (r *renderFlags) request(f *Factory, envs []repo.Environment, sink func(render.Rendered) error) (render.Request, error) {
	if r.Timeout <= 0 {
		return render.Request{}, usageErrorf("--%s must be positive, got %s", r.timeoutFlag, r.Timeout)
	}
	if r.Jobs < 0 {
		return render.Request{}, usageErrorf("--jobs must not be negative, got %d", r.Jobs)
	}
	req := render.Request{FS: f.FS, Envs: envs, Timeout: r.Timeout, NoDecrypt: r.NoDecrypt, Jobs: r.Jobs, Worker: f.Self, Sink: sink}
	if repo, err := f.Repo(); err == nil {
		req.Root = repo.Root
	}
	if !r.NoCache {
		c, err := render.OpenCache(r.CacheDir)
		var unsafe *rendercache.UnsafeError
		switch {
		case errors.As(err, &unsafe):
			// A cache others could have written is never read; the
			// render itself is still right, so it goes on without it.
			warnf(f, "%v", err)
		case err != nil:
			return req, err
		default:
			req.Cache = c
			req.CacheErrors = func(env string, err error) { warnf(f, "could not cache %s: %v", env, err) }
		}
	}
	return req, nil
}

// render renders envs as the flags say, with a progress line on a
// terminal.
func (r *renderFlags) render(ctx context.Context, f *Factory, envs []repo.Environment, sink func(render.Rendered) error) ([]render.Rendered, error) {
	req, err := r.request(f, envs, sink)
	if err != nil {
		return nil, err
	}
	defer r.showProgress(f, &req)()
	rendered, err := render.Render(ctx, req)
	if err == nil {
		warnKeys(f, rendered)
	}
	return rendered, err
}

// warnKeys prints, once, the warnings of the age keys a render used (a
// key file others can read, as ssh warns): only when something was
// decrypted, so a render that needs no key never mentions them.
func warnKeys(f *Factory, rendered []render.Rendered) {
	for _, r := range rendered {
		if r.Result.Placeholders {
			warnf(f, "%s: --no-decrypt: the Secrets made from SOPS files hold placeholder values, and their names (hashes) are not those of the real render", r.Env.Name)
		}
	}
	for _, r := range rendered {
		if len(r.Result.Decrypted) > 0 && !r.Result.Placeholders {
			if k, err := secrets.LoadKeys(); err == nil {
				for _, w := range k.Warnings {
					warnf(f, "%s", w)
				}
			}
			return
		}
	}
}

// showProgress sets req.Progress to a progress line on a terminal; the
// function it returns clears the line.
func (r *renderFlags) showProgress(f *Factory, req *render.Request) func() {
	line := progress.New(f.IO.ErrOut)
	if line == nil {
		return func() {}
	}
	req.Progress = func(ev render.Event) {
		verb := "rendered"
		if ev.Start {
			verb = "rendering"
		}
		line.Show("%s %s… %d/%d environments", verb, ev.Env, ev.Done, ev.Total)
	}
	return line.Clear
}
