package cli

import (
	"context"
	"fmt"

	"github.com/envctl/envctl/internal/atomicwrite"
	"github.com/envctl/envctl/internal/envdiff"
	"github.com/envctl/envctl/internal/live"
	"github.com/spf13/cobra"
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

Secret values are replaced by salted SHA-256 digests: the file tells whether
a value changed without holding the value.`,
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
	src, err := opts.Cluster.source()
	if err != nil {
		return err
	}
	rendered, err := opts.Render.render(ctx, f, envs)
	if err != nil {
		return err
	}
	env := rendered[0].Env
	desired, err := envdiff.Parse(rendered[0].Result.YAML)
	if err != nil {
		return err
	}
	ns := opts.Cluster.Namespace
	if ns == "" {
		ns = env.Namespace
	}
	if ns == "" {
		if ns, err = src.DefaultNamespace(ctx, env); err != nil {
			return err
		}
	}
	res, err := src.Read(ctx, env, envdiff.QueryFor(desired, ns, env.Selector))
	if err != nil {
		return err
	}
	if len(res.Problems) > 0 {
		// A snapshot that silently lacks a kind would later read as
		// "missing" drift; refuse rather than write half a picture.
		for _, p := range res.Problems {
			warnf(f, "could not read %s", p)
		}
		return fmt.Errorf("snapshot of %s is incomplete: %d kind(s) could not be read; nothing written", env.Name, len(res.Problems))
	}
	if err := live.MaskSecrets(res.Objects, live.NewSalt()); err != nil {
		return err
	}
	header := fmt.Sprintf("envctl snapshot of environment %s: %d live objects.\nSecret values are salted SHA-256 digests.", env.Name, len(res.Objects))
	out, err := live.EncodeSnapshot(header, res.Objects)
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
