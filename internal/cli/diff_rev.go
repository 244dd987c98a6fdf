package cli

import (
	"context"
	"fmt"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/review"
)

// runDiffRev is `envctl diff --rev REF`: the working tree's renders
// against REF's, no cluster.
func runDiffRev(ctx context.Context, opts *DiffOptions, printer report.Printer[[]*drift.Report]) error {
	f := opts.Factory
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	if opts.Cluster.changed() {
		return usageErrorf("--rev compares two renders offline: cluster flags (--context, -n, --kubeconfig, ...) do not apply")
	}
	req, err := opts.Render.request(f, envs, nil)
	if err != nil {
		return err
	}
	defer opts.Render.showProgress(f, &req)()
	out, err := review.Revision(ctx, review.RevisionRequest{Render: req, Rev: opts.Rev})
	if err != nil {
		return err
	}
	if err := printer.Print(f.IO.Out, out.Reports); err != nil {
		return err
	}
	changed := 0
	for _, rep := range out.Reports {
		if rep.HasDrift() {
			changed++
		}
	}
	if changed > 0 {
		return &FindingsError{Summary: fmt.Sprintf("changes since %s in %d of %d environment(s)", opts.Rev, changed, len(out.Reports))}
	}
	return nil
}
