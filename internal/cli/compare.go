package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/review"
)

// CompareOptions are the inputs of `envctl compare`.
type CompareOptions struct {
	Factory *Factory
	Args    []string
	Output  string
	Render  renderFlags
}

// NewCmdCompare returns `envctl compare`.
func NewCmdCompare(f *Factory, runF func(context.Context, *CompareOptions) error) *cobra.Command {
	opts := &CompareOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "compare ENV1 ENV2",
		Short: "Report what differs between two environments, beyond the expected differences",
		Long: `Render two environments and report what differs between them (ENV1 is the
baseline, e.g. staging; ENV2 the one a change is promoted to, e.g. prod),
after setting aside the differences envctl.yaml expects (compare:):

  compare:
    namespaces: true            # each environment's own namespace
    namePrefixes: {staging: stg-, prod: ""}
    hostnames: {staging: staging.shop.example.com, prod: shop.example.com}
    ignore:                     # fields expected to differ (JSON pointers)
      - path: /spec/replicas
        kind: Deployment

Namespaces, prefixes and host names are rewritten from ENV1's to ENV2's
wherever they occur in a value, so objects pair and references match.
The report is diff's, with the rollout impact first; Secret values are
never shown.

Exit codes: 0 nothing unexpected differs, 1 something does, 2 could not
compare.`,
		Example: `  # The promotion check before staging → prod
  envctl compare staging prod

  # As a PR comment
  envctl compare staging prod -o markdown`,
		Args: exactUsage(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runCompare(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, markdown or junit")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(drift.Formats(), cobra.ShellCompDirectiveNoFileComp))
	opts.Render.register(fl)
	return cmd
}

func runCompare(ctx context.Context, opts *CompareOptions) error {
	f := opts.Factory
	printer, err := drift.NewPrinter(opts.Output, drift.WriteOptions{Color: report.Color(f.IO.Out, opts.Output)})
	if err != nil {
		return usageErrorf("%w", err)
	}
	if opts.Args[0] == opts.Args[1] {
		return usageErrorf("compare needs two different environments, got %s twice", opts.Args[0])
	}
	envs, err := f.Resolve(opts.Args, false)
	if err != nil {
		return err
	}
	if envs[0].Name == envs[1].Name || envs[0].Path == envs[1].Path {
		return usageErrorf("compare needs two different environments; %s and %s are the same", opts.Args[0], opts.Args[1])
	}
	r, err := f.Repo()
	if err != nil {
		return err
	}
	rendered, err := opts.Render.render(ctx, f, envs, nil)
	if err != nil {
		return err
	}
	rep, err := review.Environments(rendered[0], rendered[1], review.ExpectedFrom(r.Config.Compare))
	if err != nil {
		return err
	}
	if err := printer.Print(f.IO.Out, []*drift.Report{rep}); err != nil {
		return err
	}
	if rep.HasDrift() {
		return &FindingsError{Summary: fmt.Sprintf("%s differs from %s beyond the expected differences", envs[1].Name, envs[0].Name)}
	}
	return nil
}
