package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/atomicwrite"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
)

// SnapshotOptions are the inputs of `envctl snapshot`.
type SnapshotOptions struct {
	Factory *Factory
	Args    []string
	Output  string
	Render  renderFlags
	Cluster clusterFlags
}

// NewCmdSnapshot returns `envctl snapshot`.
func NewCmdSnapshot(f *Factory, runF func(context.Context, *SnapshotOptions) error) *cobra.Command {
	opts := &SnapshotOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "snapshot ENV [-o FILE]",
		Short: "Capture the live objects of an environment, read-only, for a later diff",
		Long: `Read the live objects of an environment (every kind it renders, in every
namespace it renders into, narrowed by its selector) and write them as a YAML
stream, so a job without cluster access, or an auditor, can run
'envctl diff ENV --live FILE' later and get the same result as a live diff.

The file starts with a header (apiVersion envctl.dev/v1, kind Snapshot): the
environment, the namespaces, selector and kinds read, the time, the object
count and a checksum of the rest, so that 'diff --live' refuses another
environment's snapshot or a truncated one.

Secret values are replaced by digests, each with its own random salt: scrypt
(N=2^15, r=8, p=1), or HMAC-SHA256 when ENVCTL_SNAPSHOT_KEY is set (then
'diff --live' needs the same key). The file tells whether a value changed
without holding the value, and cannot be brute-forced cheaply.`,
		Example: `  envctl snapshot staging -o staging-live.yaml
  envctl diff staging --live staging-live.yaml`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSnapshot(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "write the snapshot to FILE (default stdout)")
	opts.Render.register(cmd.Flags())
	opts.Cluster.register(cmd.Flags())
	return cmd
}

func runSnapshot(ctx context.Context, opts *SnapshotOptions) error {
	f := opts.Factory
	envs, err := f.Resolve(opts.Args, false)
	if err != nil {
		return err
	}
	h, err := snapshotHasher()
	if err != nil {
		return err
	}
	src, err := opts.Cluster.source()
	if err != nil {
		return err
	}
	if err := opts.Render.refuseNoDecrypt("snapshot"); err != nil {
		return err
	}
	rendered, err := opts.Render.render(ctx, f, envs, nil)
	if err != nil {
		return err
	}
	env := rendered[0].Env
	desired, err := manifest.Parse(rendered[0].Result.YAML)
	if err != nil {
		return err
	}
	out, err := live.Capture(ctx, src, opts.Cluster.target(env), desired, live.CaptureOptions{
		Env: env.Name, Hasher: h, Now: time.Now(),
		Warnf: func(format string, args ...any) { warnf(f, format, args...) },
	})
	var incomplete *live.IncompleteError
	if errors.As(err, &incomplete) {
		for _, p := range incomplete.Problems {
			warnf(f, "could not read %s", p)
		}
	}
	if err != nil {
		return err
	}
	if opts.Output == "" {
		_, err = f.IO.Out.Write(out)
		return err
	}
	if err := atomicwrite.File(opts.Output, out); err != nil {
		return fmt.Errorf("-o %s: %w", opts.Output, err)
	}
	return nil
}

// snapshotHasher digests Secret values with ENVCTL_SNAPSHOT_KEY when it is
// set: a key kept outside the snapshot file (a CI secret) makes its
// digests unverifiable without it.
func snapshotHasher() (live.Hasher, error) {
	var h live.Hasher
	if k := os.Getenv("ENVCTL_SNAPSHOT_KEY"); k != "" {
		h.Key = []byte(k)
	}
	return h, h.CheckKey()
}
