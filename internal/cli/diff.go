package cli

import (
	"context"
	"fmt"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/envdiff"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/report"
	"github.com/spf13/cobra"
)

// DiffOptions are the inputs of `envctl diff`.
type DiffOptions struct {
	Factory *Factory
	Args    []string
	All     bool
	Live    []string
	Output  string
	Render  renderFlags
	Cluster clusterFlags
}

// NewCmdDiff returns `envctl diff`.
func NewCmdDiff(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "diff [ENV|DIR]... [--all] [--live FILE|DIR]",
		Short: "Report drift between rendered environments and their live clusters",
		Long: `Compare each rendered environment with what is live in its cluster (the kube
context and namespace from envctl.yaml, or --context/-n), or with a snapshot
file taken by 'envctl snapshot' (--live).

Drift is a field the repository declares whose live value differs, an object
the repository declares that is missing, or an orphan: a live object that
carries the environment's selector labels but is no longer rendered. Fields
that exist only live (server defaults, status, controller annotations, labels
added by hand) are not drift, unless the live object shows the repository
declared them earlier (last-applied annotation or managedFields) and they
have since left it. Values are normalised first: quantities, numbers,
Secret stringData vs data, defaulted protocols, allocated cluster IPs.
Hashed ConfigMaps and Secrets are compared by base name: a regenerated
app-config is reported as its changed keys and the workloads that will roll.

Live state is read with one LIST per kind per namespace; get and list
permissions are enough, and no write call is ever made. Secret values are
never printed: only that a key changed.

Exit codes: 0 no drift, 1 drift, 2 could not compare (as kubectl diff).`,
		Example: `  # Compare staging with its cluster
  envctl diff staging

  # Every environment, as a JUnit report for CI
  envctl diff --all -o junit > drift.xml

  # Against a snapshot instead of a cluster
  envctl snapshot staging -o staging-live.yaml
  envctl diff staging --live staging-live.yaml

  # A PR comment
  envctl diff prod -o markdown`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runDiff(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "compare every registered environment")
	fl.StringSliceVar(&opts.Live, "live", nil, "compare with objects from these snapshot files or directories instead of a cluster")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, markdown or junit")
	// Fails only for a flag that does not exist; -o is defined just above.
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(drift.Formats(), cobra.ShellCompDirectiveNoFileComp))
	opts.Render.register(fl)
	opts.Cluster.register(fl)
	return cmd
}

func runDiff(ctx context.Context, opts *DiffOptions) error {
	f := opts.Factory
	printer, err := drift.NewPrinter(opts.Output, drift.WriteOptions{Color: report.Color(f.IO.Out, opts.Output)})
	if err != nil {
		return usageErrorf("%w", err)
	}
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	var src envdiff.Source
	if len(opts.Live) > 0 {
		if len(envs) != 1 {
			return usageErrorf("--live compares one environment, got %d", len(envs))
		}
		objs, err := live.ReadObjects(opts.Live...)
		if err != nil {
			return fmt.Errorf("--live: %w", err)
		}
		src = &envdiff.SnapshotSource{Objects: objs}
	} else {
		cs, err := opts.Cluster.source()
		if err != nil {
			return err
		}
		src = cs
	}
	rendered, err := opts.Render.render(ctx, f, envs)
	if err != nil {
		return err
	}
	r, err := f.Repo()
	if err != nil {
		return err
	}
	targets := make([]envdiff.Target, len(rendered))
	for i, rd := range rendered {
		targets[i] = envdiff.Target{Env: rd.Env, Rendered: rd.Result.YAML, Ignore: ignoreRules(r.Config, rd.Env), Namespace: opts.Cluster.Namespace}
	}
	results, err := envdiff.Compare(ctx, src, targets)
	if err != nil {
		return err
	}
	reports := make([]*drift.Report, len(results))
	var problems []string
	for i, res := range results {
		reports[i] = res.Report
		for _, p := range res.Problems {
			problems = append(problems, fmt.Sprintf("%s: could not read %s", res.Env.Name, p))
		}
	}
	if err := printer.Print(f.IO.Out, reports); err != nil {
		return err
	}
	for _, p := range problems {
		warnf(f, "%s", p)
	}
	drifted := 0
	for _, rep := range reports {
		if rep.HasDrift() {
			drifted++
		}
	}
	switch {
	case drifted > 0:
		return &FindingsError{Summary: fmt.Sprintf("drift in %d of %d environment(s)", drifted, len(reports))}
	case len(problems) > 0:
		return fmt.Errorf("could not compare %d kind(s); the rest is in sync", len(problems))
	}
	return nil
}

// ignoreRules are the repository-wide rules plus the environment's own.
func ignoreRules(cfg repo.Config, env repo.Environment) []drift.IgnoreRule {
	var out []drift.IgnoreRule
	for _, list := range [][]repo.IgnoreRule{cfg.Ignore, env.Ignore} {
		for _, r := range list {
			out = append(out, drift.IgnoreRule{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Pointer: r.Path})
		}
	}
	return out
}
