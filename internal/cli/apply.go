package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/progress"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/validate"
	"github.com/envctl/envctl/internal/version"
)

// ApplyOptions are the inputs of `envctl apply`.
type ApplyOptions struct {
	Factory      *Factory
	Args         []string
	All          bool
	SkipValidate bool
	DryRun       string
	Atomic       bool
	Plan         string
	PlanMaxAge   time.Duration
	Deploy       deployFlags
	Render       renderFlags
	Cluster      clusterFlags

	// signers are who signed the plan (--plan), as verified.
	signers []string
}

// NewCmdApply returns `envctl apply`.
func NewCmdApply(f *Factory, runF func(context.Context, *ApplyOptions) error) *cobra.Command {
	opts := &ApplyOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "apply ENV... | --all",
		Short: "Deploy environments: validate, show the plan, server-side apply, wait, prune, record a release",
		Long: `Render each environment (with the render cache, as build does), validate it
(findings stop the apply before anything is written; --skip-validate), and
compare it with its cluster. When anything is to change, show the plan
(objects to create, change and prune; the workloads a new ConfigMap
generation rolls) and, on a terminal, ask to continue (--yes skips the
question; without a terminal --yes is required). Then:

  - take the environment's lock, a Lease envctl-lock-<env> in its namespace
    (a second apply fails at once naming the holder; a lock whose holder
    stopped renewing it for a minute is taken over, with a warning);
  - record a pending release (Secret envctl.<env>.v<N>, type
    envctl.dev/release.v1) whose inventory lists every object the apply may
    create, before creating any, so that an apply killed half way leaves
    nothing a later one cannot prune;
  - server-side apply (field manager envctl): Namespaces and CRDs first
    (waiting until each CRD is established), then other cluster-scoped
    objects, then namespaced ones;
  - wait until what changed is ready (rollouts finished, Jobs complete),
    at most --timeout;
  - prune: delete the objects of the previous release's inventory that the
    render no longer has. Objects envctl never applied are never touched,
    whatever their labels. Namespaces and CRDs are pruned only with
    --prune-cluster-scoped, PersistentVolumeClaims only with --prune-data.
    Old generations of hashed ConfigMaps and Secrets are kept while a live
    ReplicaSet, ControllerRevision or Job uses them, or one of the last
    --keep-generations releases rendered them (envctl gc removes them later);
  - record the release as deployed (or failed, with the error), keeping
    --history-max releases.

When the plan is empty nothing is written: no lock, no release.

Exit codes: 0 applied (or nothing to do), 1 validation findings or a
workload not ready in time (or, with --dry-run=server, changes to make),
2 could not apply (conflict, immutable field, permission, lock held, usage).`,
		Example: `  # Deploy staging, answering the question on the terminal
  envctl apply staging

  # From CI
  envctl apply prod --yes

  # What would change, checked by the API server (admission included)
  envctl apply prod --dry-run=server

  # Take fields another manager owns, re-create Jobs whose template changed
  envctl apply dev --yes --force-conflicts --recreate`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runApply(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "apply every registered environment, one after another")
	fl.BoolVar(&opts.SkipValidate, "skip-validate", false, "apply even when validation finds problems")
	fl.StringVar(&opts.DryRun, "dry-run", "none", `"server": send every change as a server-side dry run and show what would change; nothing is written`)
	opts.Deploy.register(fl)
	fl.StringVar(&opts.Plan, "plan", "", "apply exactly this plan file (envctl plan), or nothing if anything it pinned moved")
	fl.DurationVar(&opts.PlanMaxAge, "plan-max-age", 24*time.Hour, "refuse a plan older than this (0: any age)")
	fl.BoolVar(&opts.Atomic, "atomic", false, "when what changed is not ready in time, roll back to the previous release")
	opts.Render.registerAs(fl, "render-timeout")
	opts.Cluster.register(fl)
	return cmd
}

func runApply(ctx context.Context, opts *ApplyOptions) error {
	f := opts.Factory
	dry := false
	switch opts.DryRun {
	case "none", "":
	case "server":
		dry = true
	case "client":
		return usageErrorf("--dry-run=client is not offered: envctl build shows the render, envctl diff the drift; --dry-run=server shows what would change")
	default:
		return usageErrorf(`--dry-run must be "none" or "server", got %q`, opts.DryRun)
	}
	if opts.Atomic && opts.Deploy.NoWait {
		return usageErrorf("--atomic needs the wait that --no-wait skips")
	}
	var pinned *deploy.PlanFile
	if opts.Plan != "" {
		if dry || opts.All || len(opts.Args) != 1 {
			return usageErrorf("--plan applies one environment's plan; it excludes --all and --dry-run")
		}
		var err error
		if pinned, err = readPlanFile(opts.Plan); err != nil {
			return err
		}
	}
	interactive := isTerminal(f.IO.In)
	if err := opts.Deploy.check(interactive, !dry); err != nil {
		return err
	}
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	if pinned != nil {
		if opts.signers, err = verifyApproval(f, envs[0], pinned); err != nil {
			return err
		}
	}
	if pinned == nil && !dry {
		for _, e := range envs {
			if e.Approval.Required {
				return fmt.Errorf("%s requires approval (envctl.yaml: approval: required): apply a reviewed plan, envctl plan %s -o FILE, then envctl apply %s --plan FILE", e.Name, e.Name, e.Name)
			}
		}
	}
	src, err := opts.Cluster.source()
	if err != nil {
		return err
	}
	if err := opts.Render.refuseNoDecrypt("apply"); err != nil {
		return err
	}
	rendered, err := opts.Render.render(ctx, f, envs, nil)
	if err != nil {
		return err
	}
	if !opts.SkipValidate {
		if err := validateRendered(ctx, f, opts.Render, rendered); err != nil {
			return err
		}
	}
	r, err := f.Repo()
	if err != nil {
		return err
	}
	git := repo.Git(ctx, r.Root)
	changed := 0
	for _, rd := range rendered {
		n, err := applyOne(ctx, opts, src, rd, git, dry, pinned, ignoreRules(r.Config, rd.Env))
		if err != nil {
			return fmt.Errorf("%s: %w", rd.Env.Name, err)
		}
		changed += n
	}
	if dry && changed > 0 {
		return &FindingsError{Summary: fmt.Sprintf("%s would change (server dry run; nothing was written)", report.Plural(changed, "object", "objects"))}
	}
	return nil
}

// applyOne applies one environment and returns how many objects its plan
// changes.
func applyOne(ctx context.Context, opts *ApplyOptions, src *live.Clusters, rd render.Rendered, git repo.GitState, dry bool, pinned *deploy.PlanFile, ignore []drift.IgnoreRule) (int, error) {
	f := opts.Factory
	t := opts.Cluster.target(rd.Env)
	c, ns, err := connect(ctx, src, t)
	if err != nil {
		return 0, err
	}
	objs, err := manifest.Parse(rd.Result.YAML)
	if err != nil {
		return 0, fmt.Errorf("parsing the rendered objects: %w", err)
	}
	line := progress.New(f.IO.ErrOut)
	defer line.Clear()
	req := opts.Deploy.request(rd.Env.Name, ns, ignore)
	req.Objects, req.Render = objs, rd.Result.YAML
	req.Meta = deploy.Meta{Commit: git.Commit, Dirty: git.Dirty, Version: version.Read().Version}
	req.Progress = deployProgress(f, line, rd.Env.Name)
	if dry {
		plan, err := deploy.DryRun(ctx, c, req)
		line.Clear()
		if plan != nil {
			printWarnings(f, rd.Env.Name, plan.Warnings)
		}
		if err != nil {
			return 0, err
		}
		if err := deploy.WritePlan(f.IO.Out, plan); err != nil {
			return 0, err
		}
		return plan.Count(deploy.ActionCreate) + plan.Count(deploy.ActionChange) + plan.Count(deploy.ActionPrune), nil
	}
	d := deployment{f: f, c: c, env: rd.Env.Name, yes: opts.Deploy.Yes, line: line, question: "Apply these changes to %s?"}
	req.Atomic = opts.Atomic
	if pinned != nil {
		cl, err := deploy.Identify(ctx, c)
		if err != nil {
			return 0, err
		}
		r, err := f.Repo()
		if err != nil {
			return 0, err
		}
		config, err := readConfig(f, r)
		if err != nil {
			return 0, err
		}
		req.Meta.PlanID, req.Meta.Planner, req.Meta.Signers = pinned.ID, pinned.Planner, opts.signers
		req.Verify = func(p *deploy.Plan) error {
			return pinned.Check(rd.Env.Name, rd.Result.YAML, config, cl, p, time.Now(), opts.PlanMaxAge)
		}
	}
	_, err = d.run(ctx, req)
	return 0, err
}

// deployment runs one deploy.Apply for the CLI: the plan and the question,
// progress, the server's warnings, the outcome line and exit codes.
type deployment struct {
	f        *Factory
	c        *live.Cluster
	env      string
	yes      bool
	line     *progress.Line
	question string // with %s for the environment
	// showPlan replaces the plan printed before the question.
	showPlan func(*deploy.Plan) error
}

func (d *deployment) run(ctx context.Context, req deploy.Request) (*deploy.Result, error) {
	f := d.f
	req.Confirm = func(p *deploy.Plan) (bool, error) {
		d.line.Clear()
		show := d.showPlan
		if show == nil {
			show = func(p *deploy.Plan) error { return deploy.WritePlan(f.IO.Out, p) }
		}
		if err := show(p); err != nil {
			return false, err
		}
		if d.yes {
			return true, nil
		}
		return confirm(f, fmt.Sprintf(d.question, d.env))
	}
	start := time.Now()
	res, err := deploy.Apply(ctx, d.c, req)
	d.line.Clear()
	if res != nil {
		printWarnings(f, d.env, res.Warnings)
	}
	if res != nil && res.TookOverLock != nil {
		warnf(f, "%s: took over a stale lock held by %s since %s (not renewed for over %s)", d.env, res.TookOverLock.Holder,
			res.TookOverLock.Since.UTC().Format(time.RFC3339), deploy.LockTTL)
	}
	if err != nil {
		var nr *deploy.NotReadyError
		if errors.As(err, &nr) {
			rev := 0
			if res != nil && res.Release != nil {
				rev = res.Release.Revision
			}
			fmt.Fprintf(f.IO.ErrOut, "envctl: %s: release %d failed: %v\n", d.env, rev, err)
			if res != nil && res.RolledBack != nil {
				rb := res.RolledBack
				fmt.Fprintf(f.IO.Out, "%s: release %d %s (%s)\n", d.env, rb.Revision, rb.Status, rb.Description)
				return res, &FindingsError{Summary: fmt.Sprintf("%s: release %d not ready in time; rolled back with release %d", d.env, rev, rb.Revision)}
			}
			return res, &FindingsError{Summary: fmt.Sprintf("%s: not ready in time", d.env)}
		}
		return res, err
	}
	switch {
	case res.Declined:
		fmt.Fprintf(f.IO.ErrOut, "envctl: %s: not applied\n", d.env)
	case res.Release == nil && req.Plan.Deleting:
		fmt.Fprintf(f.IO.Out, "%s: nothing to delete\n", d.env)
	case res.Release == nil:
		fmt.Fprintf(f.IO.Out, "%s: nothing to apply (%s in sync)\n", d.env, report.Plural(len(req.Objects), "object", "objects"))
	case req.Plan.Deleting:
		rel := res.Release
		fmt.Fprintf(f.IO.Out, "%s: release %d deleted: %d deleted (%s)\n", d.env, rel.Revision, rel.Pruned, time.Since(start).Round(100*time.Millisecond))
	default:
		rel := res.Release
		fmt.Fprintf(f.IO.Out, "%s: release %d %s (%s): %d created, %d changed, %d pruned, %d unchanged (%s)\n",
			d.env, rel.Revision, rel.Status, rel.Description, rel.Created, rel.Changed, rel.Pruned, rel.Unchanged, time.Since(start).Round(100*time.Millisecond))
	}
	return res, nil
}

// deployProgress shows an apply's progress on a terminal: the status line
// for objects written and workloads waited for, and a line that stays for
// each workload as it becomes ready. Off a terminal it shows nothing.
func deployProgress(f *Factory, line *progress.Line, env string) func(string) {
	if line == nil {
		return nil
	}
	return func(msg string) {
		if strings.HasPrefix(msg, "ready ") {
			line.Clear()
			fmt.Fprintf(f.IO.ErrOut, "%s: %s\n", env, msg)
			return
		}
		line.Show("%s: %s", env, msg)
	}
}

// printWarnings shows the API server's warnings, as kubectl does, with
// the object each is about.
func printWarnings(f *Factory, env string, ws []deploy.Warning) {
	for _, w := range ws {
		if w.ID.Name == "" {
			warnf(f, "%s: %s", env, w.Message)
			continue
		}
		warnf(f, "%s: %s: %s", env, w.ID, w.Message)
	}
}

// confirm asks a yes/no question on the terminal; anything but y or yes
// is no.
func confirm(f *Factory, question string) (bool, error) {
	fmt.Fprintf(f.IO.ErrOut, "%s [y/N] ", question)
	answer, err := bufio.NewReader(f.IO.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes", nil
}

func isTerminal(v any) bool {
	fl, ok := v.(*os.File)
	return ok && term.IsTerminal(int(fl.Fd()))
}

// validateRendered runs validate's checks on rendered environments, as
// `envctl validate` would, and fails on any finding: an apply writes
// nothing that validate calls invalid.
func validateRendered(ctx context.Context, f *Factory, rf renderFlags, rendered []render.Rendered) error {
	r, err := f.Repo()
	if err != nil {
		return err
	}
	var inputs []validate.Input
	for _, rd := range rendered {
		env := rd.Env
		inputs = append(inputs, validate.Input{
			Env:               env.Name,
			KubernetesVersion: env.KubeVersion,
			Streams:           []validate.Stream{{Data: rd.Result.YAML}},
			Origins: func(ctx context.Context) (map[validate.Object]validate.Origin, error) {
				return validateOrigins(overlay.Origins(ctx, f.FS, r.Root, env.Path, overlay.Options{RemoteTimeout: rf.Timeout, NoDecrypt: rf.NoDecrypt}))
			},
		})
	}
	var checks *validate.Checks
	if r.ConfigPath != "" {
		if checks, err = validate.LoadChecks(f.FS, r.Root, &r.Config, true); err != nil {
			return err
		}
	}
	v, err := validate.New(validate.Options{Strict: true}, checks)
	if err != nil {
		return err
	}
	rep, err := v.Validate(ctx, inputs)
	if err != nil {
		return err
	}
	c := rep.Count(nil)
	if c.Errors+c.Invalid == 0 {
		return nil
	}
	p, err := validate.NewPrinter("text")
	if err != nil {
		return err
	}
	if err := p.Print(f.IO.ErrOut, rep); err != nil {
		return err
	}
	if c.Errors > 0 {
		return fmt.Errorf("%s could not be validated; nothing was applied (--skip-validate applies anyway)", report.Plural(c.Errors, "object", "objects"))
	}
	return &FindingsError{Summary: fmt.Sprintf("%s invalid; nothing was applied (--skip-validate applies anyway)", report.Plural(c.Invalid, "object is", "objects are"))}
}
