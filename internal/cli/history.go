package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/deploy"
)

// HistoryOptions are the inputs of `envctl history`.
type HistoryOptions struct {
	Factory *Factory
	Env     string
	Output  string
	Cluster clusterFlags
}

// NewCmdHistory returns `envctl history`.
func NewCmdHistory(f *Factory, runF func(context.Context, *HistoryOptions) error) *cobra.Command {
	opts := &HistoryOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "history ENV",
		Short: "List an environment's releases: revision, time, user, commit, status, what changed",
		Long: `List the releases envctl apply, rollback and delete recorded in the
environment's namespace (Secrets envctl.<env>.v<N>), newest first: revision,
start time, the user the API server authenticated, the git commit (+dirty
when the work tree had changes), status (deployed, superseded, failed,
pending, rolled-back, deleted), the objects in its inventory and what the
apply created (+), changed (~) and pruned (-).

A release Secret that was edited or damaged by hand is listed as
unreadable, with the reason; apply and rollback skip it.`,
		Example: `  envctl history prod
  envctl history prod -o json`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runHistory(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(deploy.HistoryFormats(), cobra.ShellCompDirectiveNoFileComp))
	opts.Cluster.register(cmd.Flags())
	return cmd
}

func runHistory(ctx context.Context, opts *HistoryOptions) error {
	f := opts.Factory
	printer, err := deploy.NewHistoryPrinter(opts.Output)
	if err != nil {
		return usageErrorf("%w", err)
	}
	ec, err := opts.Cluster.connectEnv(ctx, f, opts.Env)
	if err != nil {
		return err
	}
	env, c, ns := ec.env, ec.c, ec.ns
	store := &deploy.Store{Client: c.Dynamic(), Namespace: ns, Environment: env.Name}
	rels, err := store.List(ctx)
	if err != nil {
		return err
	}
	if len(rels) == 0 && opts.Output == "text" {
		fmt.Fprintf(f.IO.ErrOut, "envctl: %s has no releases in namespace %s (envctl apply %s records the first)\n", env.Name, ns, env.Name)
		return nil
	}
	return printer.Print(f.IO.Out, deploy.Entries(rels))
}
