package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/progress"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/version"
)

// RollbackOptions are the inputs of `envctl rollback`.
type RollbackOptions struct {
	Factory *Factory
	Env     string
	To      int
	Deploy  deployFlags
	Cluster clusterFlags
}

// NewCmdRollback returns `envctl rollback`.
func NewCmdRollback(f *Factory, runF func(context.Context, *RollbackOptions) error) *cobra.Command {
	opts := &RollbackOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "rollback ENV [--to REV]",
		Short: "Re-apply an earlier release exactly as it was deployed",
		Long: `Re-apply the render an earlier release stored (default: the release deployed
before the current one; --to REV picks one from envctl history). Nothing is
rendered and git is not read: what ran then runs again, including its exact
hashed ConfigMaps and Secrets, re-created if gc removed them. Objects the
current release has and that release did not are pruned, as apply prunes.

First the drift from live to that release is shown, as envctl diff shows
it; then, as apply does, the question (--yes skips it; required without a
terminal), the lock, the wait and a new release ("rollback to REV"). The
release rolled back from is marked rolled-back.

Exit codes: 0 rolled back (or already there), 1 not ready in time, 2 could
not roll back (no such release, unreadable release, conflict, lock held).`,
		Example: `  # Back to the release before the current one
  envctl rollback prod

  # Back to release 3, from CI
  envctl rollback prod --to 3 --yes`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRollback(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.To, "to", 0, "revision to roll back to (default: the one deployed before the current)")
	opts.Deploy.register(fl)
	opts.Cluster.register(fl)
	return cmd
}

func runRollback(ctx context.Context, opts *RollbackOptions) error {
	f := opts.Factory
	if opts.To < 0 {
		return usageErrorf("--to must be a revision from envctl history, got %d", opts.To)
	}
	if err := opts.Deploy.check(isTerminal(f.IO.In), true); err != nil {
		return err
	}
	ec, err := opts.Cluster.connectEnv(ctx, f, opts.Env)
	if err != nil {
		return err
	}
	env, src, t, c, ns := ec.env, ec.src, ec.target, ec.c, ec.ns
	r, err := f.Repo()
	if err != nil {
		return err
	}
	hist, err := (&deploy.Store{Client: c.Dynamic(), Namespace: ns, Environment: env.Name}).List(ctx)
	if err != nil {
		return err
	}
	to, err := deploy.RollbackTarget(env.Name, hist, opts.To)
	if err != nil {
		return err
	}
	ignore := ignoreRules(r.Config, env)
	req, err := deploy.RollbackRequest(opts.Deploy.request(env.Name, ns, ignore), to, "rollback to %d")
	if err != nil {
		return err
	}
	req.Meta.Version = version.Read().Version

	// What the rollback changes, as diff shows it.
	st, err := live.ReadFor(ctx, src, live.Target{Context: t.Context, Namespace: ns}, req.Objects)
	if err != nil {
		return err
	}
	dopts := driftOptions(r.Config, env)
	dopts.DefaultNamespace = ns
	rep, err := drift.Compare(st.Desired, st.Live, dopts)
	if err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s: rolling back to release %d (%s, commit %s)\n", env.Name, to.Revision, to.Started.Format("2006-01-02T15:04:05Z07:00"), orDash(to.Commit))
	if err := drift.Write(f.IO.Out, "text", []*drift.Report{rep}, drift.WriteOptions{Color: report.Color(f.IO.Out, "text")}); err != nil {
		return err
	}

	line := progress.New(f.IO.ErrOut)
	defer line.Clear()
	req.Progress = deployProgress(f, line, env.Name)
	d := deployment{f: f, c: c, env: env.Name, yes: opts.Deploy.Yes, line: line,
		question: fmt.Sprintf("Roll %%s back to release %d?", to.Revision),
		showPlan: func(p *deploy.Plan) error {
			_, err := fmt.Fprintf(f.IO.Out, "%s: %s\n", p.Environment, deploy.Totals(p))
			return err
		},
	}
	_, err = d.run(ctx, req)
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
