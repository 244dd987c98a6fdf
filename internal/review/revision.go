package review

import (
	"context"
	"fmt"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/gitrev"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/render"
)

// RevisionRequest asks for the changes to environments since a git
// revision.
type RevisionRequest struct {
	// Render renders the working tree (the "after" side); its Envs are
	// the environments compared, its Cache serves both sides and its Root
	// is the repository whose revision is read.
	Render render.Request
	// Rev is the revision, in any syntax git understands.
	Rev string
}

// RevisionReport is the outcome of Revision.
type RevisionReport struct {
	// Reports has one report per environment, in Render.Envs order.
	Reports []*drift.Report
	// Commit is what Rev named.
	Commit string
	// Rendered counts the environments rendered at Rev (from the cache or
	// not); the others had the same inputs as the working tree.
	Rendered int
}

// Revision renders each environment at the working tree and at rev, and
// compares them with the drift engine (the revision's render as the
// baseline). An environment whose recorded inputs read the same at rev is
// reported unchanged without a second render or a comparison: the render
// cache's own record of what a render read decides. An environment whose
// directory did not exist at rev has everything added.
func Revision(ctx context.Context, req RevisionRequest) (*RevisionReport, error) {
	tree, err := gitrev.Open(ctx, req.Render.Root, req.Rev)
	if err != nil {
		return nil, err
	}
	defer tree.Close()

	after, err := render.Render(ctx, req.Render)
	if err != nil {
		return nil, err
	}
	out := &RevisionReport{Reports: make([]*drift.Report, len(after)), Commit: tree.Commit}
	before := req.Render
	before.FS = tree
	// A worker process renders what is on disk, not the revision's tree.
	before.Worker = ""
	before.Envs = nil
	before.Sink = nil
	var pending []int // indexes into after
	for i, a := range after {
		switch {
		case !tree.IsDir(a.Env.Path):
			out.Reports[i], err = compare(a, nil, req.Rev)
			if err != nil {
				return nil, err
			}
		case a.Result.Cacheable() && len(a.Result.Inputs) > 0 && overlay.Unchanged(tree, a.Result.Inputs):
			out.Reports[i] = drift.IdenticalReport(a.Env.Name, req.Rev, a.Result.Objects)
		default:
			pending = append(pending, i)
			before.Envs = append(before.Envs, a.Env)
		}
	}
	if len(pending) == 0 {
		return out, nil
	}
	out.Rendered = len(pending)
	old, err := render.Render(ctx, before)
	if err != nil {
		return nil, &RevisionRenderError{Rev: req.Rev, Err: err}
	}
	for j, i := range pending {
		if out.Reports[i], err = compare(after[i], old[j].Result.YAML, req.Rev); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// RevisionRenderError is an environment that does not render at the
// revision.
type RevisionRenderError struct {
	Rev string
	Err error
}

func (e *RevisionRenderError) Error() string {
	return fmt.Sprintf("at revision %s: %v", e.Rev, e.Err)
}

func (e *RevisionRenderError) Unwrap() error { return e.Err }

// compare compares an environment's render with its baseline render
// (nil: the environment did not exist).
func compare(a render.Rendered, baseline []byte, label string) (*drift.Report, error) {
	desired, err := manifest.Parse(a.Result.YAML)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the rendered objects: %w", a.Env.Name, err)
	}
	old, err := manifest.Parse(baseline)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: parsing the rendered objects: %w", a.Env.Name, label, err)
	}
	rep, err := drift.Compare(desired, old, drift.Options{Environment: a.Env.Name, Baseline: label})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Env.Name, err)
	}
	return rep, nil
}
