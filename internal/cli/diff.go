package cli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/report"
)

// DiffOptions are the inputs of `envctl diff`.
type DiffOptions struct {
	Factory *Factory
	Args    []string
	All     bool
	Live    []string
	LiveAny bool
	Release int
	Rev     string
	MaxSize sizeFlag
	Output  string
	// MaxChars bounds markdown output (drift.WriteOptions.MaxChars).
	MaxChars int
	Reports  []string
	Render   renderFlags
	Cluster  clusterFlags
}

// NewCmdDiff returns `envctl diff`.
func NewCmdDiff(f *Factory, runF func(context.Context, *DiffOptions) error) *cobra.Command {
	opts := &DiffOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "diff [ENV|DIR]... [--all] [--live FILE|DIR | --rev REF]",
		Short: "Report drift between rendered environments and their live clusters, or changes since a git revision",
		Long: `Compare each rendered environment with what is live in its cluster (the kube
context and namespace from envctl.yaml, or --context/-n), or with a snapshot
file taken by 'envctl snapshot' (--live).

Drift is a field the repository declares whose live value differs, an object
the repository declares that is missing, or an orphan: a live object that is
no longer rendered and that envctl apply's latest release applied (for an
environment envctl never deployed: one that carries the environment's
selector labels). --release REV compares the cluster with what release REV
applied instead of with the repository.

A field only the cluster has is drift when someone set it by hand (its
managedFields name kubectl edit, patch, set, scale, replace or a manager in
envctl.yaml's drift.handEditManagers: the report says who and when), when it
is a security field (privileged, capabilities, hostNetwork, hostPath, the
service account, command, a NetworkPolicy's spec, ...) whose value is not
the Kubernetes default, whoever set it, or when the repository declared it
earlier (last-applied annotation or an applier's managedFields) and it has
since left the repository. Server defaults, status, controllers' fields and,
unless drift.metadata is strict, labels and annotations added by hand are
not drift. Values are normalised first: quantities, numbers,
Secret stringData vs data, defaulted protocols, allocated cluster IPs.
Hashed ConfigMaps and Secrets are compared by base name: a regenerated
app-config is reported as its changed keys and the workloads that will roll.

Live state is read with one LIST per kind per namespace; get and list
permissions are enough, and no write call is ever made. Secret values are
never printed: only that a key changed.

--live FILE|DIR reads snapshots taken by 'envctl snapshot': each environment
compares with the files whose header names it. A file that is empty, binary,
not YAML or JSON, holds no object of the environment, or is another
environment's, truncated or edited since it was taken, or has no header (a
'kubectl get -o yaml' dump) is an error, not drift; --live-any compares with
the last three anyway. Snapshots taken with ENVCTL_SNAPSHOT_KEY need the same
key.

--rev REF compares no cluster: it renders each environment at git revision
REF (read from git in memory; nothing is checked out) and in the working
tree, and reports what the change does: objects and fields changed, added
and removed, and its rollout impact (which workloads roll and why, and
which read a changed ConfigMap by a fixed name). An environment whose
inputs are the same at REF is reported unchanged without a second render.
Exit codes: 0 no change, 1 changes, 2 could not compare.

--report FORMAT=FILE writes the same report in another format to FILE as
well, from the same comparison (the cluster is read once); repeat it for
more files. Each file is written whole, also when there is drift.

Exit codes: 0 no drift, 1 drift, 2 could not compare (as kubectl diff).`,
		Example: `  # Compare staging with its cluster
  envctl diff staging

  # Every environment, as a JUnit report for CI
  envctl diff --all -o junit > drift.xml

  # One read of the clusters, three reports: text on stdout, JUnit and markdown files
  envctl diff --all --report junit=drift.xml --report markdown=drift.md

  # Against a snapshot instead of a cluster
  envctl snapshot staging -o staging-live.yaml
  envctl diff staging --live staging-live.yaml

  # Every environment against a directory of snapshots
  envctl diff --all --live snapshots/

  # A PR comment
  envctl diff prod -o markdown

  # What a pull request changes in every environment, without a cluster
  envctl diff --all --rev origin/main -o markdown`,
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
	fl.BoolVar(&opts.LiveAny, "live-any", false, "compare with --live files whose header does not vouch for them: another environment's, truncated or edited, or without a header")
	fl.IntVar(&opts.Release, "release", 0, "compare the cluster with this release's stored render (envctl history) instead of the repository's")
	fl.StringVar(&opts.Rev, "rev", "", "compare with the render at this git revision instead of a cluster (offline)")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: text, json, markdown or junit")
	fl.StringArrayVar(&opts.Reports, "report", nil, "also write the report as FORMAT to FILE (FORMAT=FILE, repeatable), from the same comparison")
	fl.IntVar(&opts.MaxChars, "max-chars", drift.MarkdownLimit, "bound the markdown output to this many characters (GitHub's comment limit by default), saying what was cut")
	registerMaxInputSize(fl, &opts.MaxSize, "a --live file")
	// Fails only for a flag that does not exist; -o is defined just above.
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(drift.Formats(), cobra.ShellCompDirectiveNoFileComp))
	opts.Render.register(fl)
	opts.Cluster.register(fl)
	return cmd
}

func runDiff(ctx context.Context, opts *DiffOptions) error {
	f := opts.Factory
	if opts.MaxChars < 1000 {
		return usageErrorf("--max-chars %d: at least 1000, room for the summary", opts.MaxChars)
	}
	printer, err := drift.NewPrinter(opts.Output, drift.WriteOptions{Color: report.Color(f.IO.Out, opts.Output), MaxChars: opts.MaxChars})
	if err != nil {
		return usageErrorf("%w", err)
	}
	files, err := report.ParseFileReports(opts.Reports, drift.Formats())
	if err != nil {
		return usageErrorf("%w", err)
	}
	// Files are never coloured: they are read by CI, not a terminal.
	if printer, err = report.Tee(printer, files, func(format string) (report.Printer[[]*drift.Report], error) {
		return drift.NewPrinter(format, drift.WriteOptions{MaxChars: opts.MaxChars})
	}); err != nil {
		return err
	}
	if opts.Rev != "" {
		if len(opts.Live) > 0 || opts.Release != 0 {
			return usageErrorf("--rev compares two renders, not a cluster: it cannot be used with --live or --release")
		}
		return runDiffRev(ctx, opts, printer)
	}
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	if opts.Release < 0 || opts.Release > 0 && (len(envs) != 1 || len(opts.Live) > 0) {
		return usageErrorf("--release REV compares one environment's cluster with its release REV (from envctl history), not with --live")
	}
	if err := opts.Render.refuseNoDecrypt("diff"); err != nil {
		return err
	}
	// Each environment's source, by name: a cluster's is shared, a
	// snapshot is the environment's own.
	sources := map[string]live.Source{}
	switch {
	case len(opts.Live) > 0:
		if sources, err = snapshotSources(f, envs, opts); err != nil {
			return err
		}
	case opts.LiveAny:
		return usageErrorf("--live-any relaxes the checks of --live files; there is no --live")
	default:
		src, err := opts.Cluster.source()
		if err != nil {
			return err
		}
		for _, env := range envs {
			sources[env.Name] = src
		}
	}
	rendered, err := opts.Render.render(ctx, f, envs, nil)
	if err != nil {
		return err
	}
	r, err := f.Repo()
	if err != nil {
		return err
	}
	reports := make([]*drift.Report, len(rendered))
	problems := make([][]live.Problem, len(rendered))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(diffJobs)
	for i, rd := range rendered {
		g.Go(func() error {
			var err error
			reports[i], problems[i], err = diffOne(gctx, sources[rd.Env.Name], opts.Cluster.target(rd.Env), rd, driftOptions(r.Config, rd.Env), opts.Release)
			if err != nil {
				return fmt.Errorf("%s: %w", rd.Env.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if err := printer.Print(f.IO.Out, reports); err != nil {
		return err
	}
	unread := 0
	for i, ps := range problems {
		for _, p := range ps {
			warnf(f, "%s: could not read %s", rendered[i].Env.Name, p)
			unread++
		}
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
	case unread > 0:
		return fmt.Errorf("could not compare %d kind(s); the rest is in sync", unread)
	}
	return nil
}

// snapshotSources gives each environment the --live files that are its
// snapshot (live.SelectSnapshot), before anything is rendered: a file that
// cannot be what it claims is an error, never a report of missing objects.
func snapshotSources(f *Factory, envs []repo.Environment, opts *DiffOptions) (map[string]live.Source, error) {
	h, err := snapshotHasher()
	if err != nil {
		return nil, err
	}
	files, err := live.ReadSnapshots(int64(opts.MaxSize), opts.Live...)
	if err != nil {
		return nil, fmt.Errorf("--live: %w", err)
	}
	out := map[string]live.Source{}
	for _, env := range envs {
		s, warnings, err := live.SelectSnapshot(files, env.Name, live.SelectOptions{Any: opts.LiveAny, Several: len(envs) > 1, Hasher: h})
		if err != nil {
			return nil, fmt.Errorf("%s: --live: %w", env.Name, err)
		}
		for _, w := range warnings {
			warnf(f, "%s: %s", env.Name, w)
		}
		out[env.Name] = s
	}
	return out, nil
}

// diffJobs bounds the environments compared at once; each reads its
// cluster with up to 8 LISTs in flight (live.Query.Jobs).
const diffJobs = 4

// diffOne compares one rendered environment (or, with release > 0, that
// release's stored render) with what is live.
func diffOne(ctx context.Context, src live.Source, t live.Target, rd render.Rendered, opts drift.Options, release int) (*drift.Report, []live.Problem, error) {
	desired, err := manifest.Parse(rd.Result.YAML)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing the rendered objects: %w", err)
	}
	opts.Selector = t.Selector
	if cs, ok := src.(*live.Clusters); ok {
		h, err := releases(ctx, cs, t, rd.Env.Name, release)
		if err != nil {
			return nil, nil, err
		}
		if h.release != nil {
			if desired, err = manifest.Parse(h.release.Render); err != nil {
				return nil, nil, fmt.Errorf("release %d: its stored render does not parse: %w", release, err)
			}
		}
		if h.inventory != nil {
			// envctl deployed it: what the latest release applied is what
			// can be orphaned, labels or not.
			opts.Selector, opts.Inventory = nil, h.inventory
			t.Selector = nil
			for _, id := range h.inventory {
				t.Kinds = append(t.Kinds, schema.GroupVersionKind{Group: id.Group, Version: id.Version, Kind: id.Kind})
				if id.Namespace != "" {
					t.Namespaces = append(t.Namespaces, id.Namespace)
				}
			}
		}
	} else if release > 0 {
		return nil, nil, usageErrorf("--release reads the cluster's release history; it cannot be used with --live")
	}
	st, err := live.ReadFor(ctx, src, t, desired)
	if err != nil {
		return nil, nil, err
	}
	opts.DefaultNamespace = st.Namespace
	rep, err := drift.Compare(st.Desired, st.Live, opts)
	return rep, st.Problems, err
}

// history is what diff takes from an environment's releases.
type history struct {
	// inventory is what the newest deployed release applied (nil when
	// envctl never deployed the environment, or its releases cannot be
	// read: then the selector finds orphans, as before).
	inventory []drift.ObjectID
	// release is the one --release asked for.
	release *deploy.Release
}

func releases(ctx context.Context, src *live.Clusters, t live.Target, env string, rev int) (history, error) {
	var h history
	c, ns, err := connect(ctx, src, t)
	if err != nil {
		return h, err
	}
	rels, err := (&deploy.Store{Client: c.Dynamic(), Namespace: ns, Environment: env}).List(ctx)
	switch {
	case err != nil && rev > 0:
		return h, err
	case err != nil:
		// diff needs only get and list on the rendered kinds; a user who
		// may not list Secrets gets the selector's orphans.
		return h, nil
	}
	for _, r := range rels {
		if r.Status == deploy.StatusDeployed && h.inventory == nil {
			h.inventory = []drift.ObjectID{}
			for _, it := range r.Inventory {
				if !it.Retained {
					h.inventory = append(h.inventory, it.ObjectID)
				}
			}
		}
		if rev > 0 && r.Revision == rev {
			if r.Status == deploy.StatusUnreadable {
				return h, fmt.Errorf("release %d of %s is unreadable: %s", rev, env, r.ReadError)
			}
			h.release = r
		}
	}
	if rev > 0 && h.release == nil {
		return h, &deploy.NoRevisionError{Environment: env, Revision: rev}
	}
	return h, nil
}

// driftOptions are the drift model envctl.yaml sets for env: its ignore
// rules, and the drift section's managers (added to the defaults: a
// repository names its own tools, it does not forget kubectl's).
func driftOptions(cfg repo.Config, env repo.Environment) drift.Options {
	return drift.Options{
		Environment:      env.Name,
		Ignore:           ignoreRules(cfg, env),
		FieldManagers:    append(slices.Clone(drift.DefaultFieldManagers), cfg.Drift.Appliers...),
		HandEditManagers: append(slices.Clone(drift.DefaultHandEditManagers), cfg.Drift.HandEditManagers...),
		StrictMetadata:   cfg.Drift.Metadata == repo.DriftMetadataStrict,
	}
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
