package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/deploy"
)

// GCOptions are the inputs of `envctl gc`.
type GCOptions struct {
	Factory *Factory
	Env     string
	Keep    int
	DryRun  bool
	Cluster clusterFlags
}

// NewCmdGC returns `envctl gc`.
func NewCmdGC(f *Factory, runF func(context.Context, *GCOptions) error) *cobra.Command {
	opts := &GCOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "gc ENV [--keep N] [--dry-run]",
		Short: "Delete old generations of hashed ConfigMaps and Secrets that nothing uses",
		Long: `apply keeps the old generations of content-hashed ConfigMaps and Secrets
(app-config-<hash>) when it replaces them, so that a rollback, kubectl rollout
undo or a running Job still finds its config. gc deletes the ones the deployed
release keeps and nothing uses any more: no live ReplicaSet, ControllerRevision
or Job refers to them, and none of the last --keep releases rendered them.
It takes the environment's lock while it deletes.`,
		Example: `  envctl gc prod --dry-run
  envctl gc prod --keep 1`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGC(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	cmd.Flags().IntVar(&opts.Keep, "keep", 3, "keep what the last N releases rendered")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "only list what would be deleted")
	opts.Cluster.register(cmd.Flags())
	return cmd
}

func runGC(ctx context.Context, opts *GCOptions) error {
	f := opts.Factory
	if opts.Keep < 1 {
		return usageErrorf("--keep must be at least 1 (the deployed release), got %d", opts.Keep)
	}
	ec, err := opts.Cluster.connectEnv(ctx, f, opts.Env)
	if err != nil {
		return err
	}
	env, c, ns := ec.env, ec.c, ec.ns
	user, _ := c.WhoAmI(ctx)
	res, err := deploy.GC(ctx, c, deploy.Target{Environment: env.Name, Namespace: ns}, opts.Keep, opts.DryRun, deploy.Holder(user))
	if err != nil {
		return err
	}
	verb := "deleted"
	if opts.DryRun {
		verb = "would delete"
	}
	for _, id := range res.Deleted {
		fmt.Fprintf(f.IO.Out, "%s: %s %s\n", env.Name, verb, id)
	}
	for _, s := range res.Kept {
		fmt.Fprintf(f.IO.Out, "%s: kept %s (%s)\n", env.Name, s.ID, s.Why)
	}
	fmt.Fprintf(f.IO.Out, "%s: %s %d old generation(s), kept %d (release %d)\n", env.Name, verb, len(res.Deleted), len(res.Kept), res.Release)
	return nil
}
