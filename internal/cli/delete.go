package cli

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/progress"
	"github.com/envctl/envctl/internal/version"
)

// DeleteOptions are the inputs of `envctl delete`.
type DeleteOptions struct {
	Factory *Factory
	Env     string
	Deploy  deployFlags
	Cluster clusterFlags
}

// NewCmdDelete returns `envctl delete`.
func NewCmdDelete(f *Factory, runF func(context.Context, *DeleteOptions) error) *cobra.Command {
	opts := &DeleteOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "delete ENV",
		Short: "Delete everything an environment's releases deployed",
		Long: `Delete every object in the environment's current inventory (what its
deployed release, and any failed or interrupted apply after it, applied),
namespaced objects first, then cluster-scoped ones. Objects envctl never
applied are not touched, whatever their labels. Namespaces and CRDs are
deleted only with --prune-cluster-scoped, PersistentVolumeClaims only with
--prune-data. The objects are listed first, and the question is asked as
apply asks it (--yes skips it; required without a terminal). A release
with status deleted is recorded.`,
		Example: `  envctl delete dev
  envctl delete preview-123 --yes --prune-cluster-scoped --prune-data`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDelete(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	opts.Deploy.register(cmd.Flags())
	opts.Cluster.register(cmd.Flags())
	return cmd
}

func runDelete(ctx context.Context, opts *DeleteOptions) error {
	f := opts.Factory
	if err := opts.Deploy.check(isTerminal(f.IO.In), true); err != nil {
		return err
	}
	ec, err := opts.Cluster.connectEnv(ctx, f, opts.Env)
	if err != nil {
		return err
	}
	env, c, ns := ec.env, ec.c, ec.ns
	req := opts.Deploy.request(env.Name, ns, nil)
	req.Plan.Deleting = true
	req.Meta.Version = version.Read().Version
	line := progress.New(f.IO.ErrOut)
	defer line.Clear()
	req.Progress = deployProgress(f, line, env.Name)
	d := deployment{f: f, c: c, env: env.Name, yes: opts.Deploy.Yes, line: line, question: "Delete these objects of %s?"}
	_, err = d.run(ctx, req)
	return err
}
