package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/envctl/envctl/internal/k8sschema"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/report"
	"github.com/envctl/envctl/internal/validate"
)

// ValidateOptions are the inputs of `envctl validate`.
type ValidateOptions struct {
	Factory     *Factory
	Args        []string
	All         bool
	Files       []string
	Env         string
	Output      string
	KubeVersion string
	Strict      bool
	SkipKinds   []string
	SkipUnknown bool
	MaxSize     sizeFlag
	// DryRun is "server" to also send every object to its cluster as a
	// server-side dry run ("" or "none": offline only).
	DryRun  string
	Cluster clusterFlags
	Render  renderFlags
}

// NewCmdValidate returns `envctl validate`. runF replaces runValidate in
// tests.
func NewCmdValidate(f *Factory, runF func(context.Context, *ValidateOptions) error) *cobra.Command {
	opts := &ValidateOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "validate [ENV|DIR]... [--all] | -f FILE...",
		Short: "Check rendered objects against Kubernetes and CRD schemas, config contracts and policies",
		Long: `Render environments and check every object, offline:

  - against the Kubernetes schemas of --kube-version (embedded; strict by
    default: unknown fields and duplicate keys are errors, as the API server's
    strict field validation reports them);
  - custom resources against the schemas of their CustomResourceDefinitions,
    rendered in the environment or listed under crds: in envctl.yaml;
  - ConfigMaps and Secrets against the contracts: of envctl.yaml (JSON Schemas
    for their data and the JSON, YAML, properties or env documents in it);
  - the policies: of envctl.yaml that apply to the environment (built-in rules
    such as min-replicas, image-tag, run-as-non-root, and the repository's own
    rules:).

With -f, pre-rendered YAML is checked instead (-f - reads stdin; files and
directories, repeatable), against the schemas only, as kubeconform does;
--env NAME applies that environment's contracts and policies too.

--dry-run=server also sends every object to the environment's cluster (its
context from envctl.yaml, or the connection flags, as diff resolves them) as a
server-side apply with dryRun=All: admission webhooks, ValidatingAdmission-
Policies, quota, LimitRange and the API server's own validation judge it, and
nothing is stored. That needs the verbs get, create and patch on every kind
(read-only access is not enough).

Each problem is printed with the object, the field path and, where it can be
told, the file in the repository that defines the object. Secret values never
appear in a message.

Exit codes: 0 every object is valid, 1 an object is invalid, 2 validation
could not run (bad input, an object without a schema, a contract for an
object that does not exist).`,
		Example: `  # Check prod
  envctl validate prod

  # Every environment, as SARIF for GitHub code scanning
  envctl validate --all -o sarif > envctl.sarif

  # A drop-in for kubeconform in a pipeline
  kustomize build overlays/prod | envctl validate -f -

  # Also ask the cluster: admission policies and webhooks, quota
  envctl validate prod --dry-run=server

  # Against Kubernetes 1.31, allowing unknown fields
  envctl validate --all --kube-version 1.31 --strict=false`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runValidate(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "validate every registered environment")
	fl.StringArrayVarP(&opts.Files, "filename", "f", nil, "validate pre-rendered YAML from this file or directory instead (- for stdin; repeatable)")
	fl.StringVar(&opts.Env, "env", "", "with -f: apply this environment's contracts and policies")
	registerMaxInputSize(fl, &opts.MaxSize, "an -f file or stdin")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output format: "+strings.Join(validate.Formats(), ", "))
	// Fails only for a flag that does not exist; -o is defined just above.
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(validate.Formats(), cobra.ShellCompDirectiveNoFileComp))
	fl.StringVar(&opts.KubeVersion, "kube-version", "", "Kubernetes version of the schemas: "+strings.Join(k8sschema.Versions(), ", ")+" (default: the environment's kubeVersion in envctl.yaml, else "+k8sschema.Newest()+")")
	fl.BoolVar(&opts.Strict, "strict", true, "reject unknown fields and duplicate keys (--strict=false allows them)")
	fl.StringSliceVar(&opts.SkipKinds, "skip-kinds", nil, "skip these kinds: Kind or group/version/Kind, comma-separated")
	fl.BoolVar(&opts.SkipUnknown, "skip-unknown", false, "skip objects whose kind has no schema instead of failing")
	fl.StringVar(&opts.DryRun, "dry-run", "none", "server: also send every object to its cluster as a server-side dry run (admission, quota, the API server's validation)")
	opts.Cluster.register(fl)
	opts.Render.register(fl)
	return cmd
}

func runValidate(ctx context.Context, opts *ValidateOptions) error {
	f := opts.Factory
	printer, err := validate.NewPrinter(opts.Output)
	if err != nil {
		return usageErrorf("%w", err)
	}
	if len(opts.Files) > 0 && (len(opts.Args) > 0 || opts.All) {
		return usageErrorf("-f and environments are exclusive: validate files or render environments")
	}
	if opts.Env != "" && len(opts.Files) == 0 {
		return usageErrorf("--env applies to -f files; to validate environment %s, name it: envctl validate %s", opts.Env, opts.Env)
	}
	switch opts.DryRun {
	case "", "none", "server":
	default:
		return usageErrorf("--dry-run %q: want none or server", opts.DryRun)
	}
	for _, k := range opts.SkipKinds {
		if strings.TrimSpace(k) == "" {
			return usageErrorf("--skip-kinds: empty kind in %q", strings.Join(opts.SkipKinds, ","))
		}
	}
	vopts := validate.Options{KubernetesVersion: opts.KubeVersion, Strict: opts.Strict, SkipKinds: opts.SkipKinds, SkipUnknown: opts.SkipUnknown}
	if opts.KubeVersion != "" {
		minor, patch, err := k8sschema.ParseVersion(opts.KubeVersion)
		if err != nil {
			return usageErrorf("--kube-version: %v", err)
		}
		if patch != "" {
			// Schemas change with minor versions only; saying so once
			// keeps a user from thinking the patch was honoured.
			warnf(f, "--kube-version %s: the schemas are per minor version; checking against Kubernetes %s", opts.KubeVersion, minor)
		}
		vopts.KubernetesVersion = minor
	}
	// kubeVersion of an environment in envctl.yaml, unless --kube-version
	// overrides it.
	kubeVersionOf := func(e repo.Environment) string {
		if opts.KubeVersion != "" {
			return ""
		}
		return e.KubeVersion
	}

	var inputs []validate.Input
	var envOf []repo.Environment // per input, for --dry-run=server
	if len(opts.Files) > 0 {
		if stdin := slices.Index(opts.Files, "-"); stdin >= 0 && slices.Contains(opts.Files[stdin+1:], "-") {
			return usageErrorf("-f - is given twice; stdin can be read once")
		}
		cwd, err := f.Getwd()
		if err != nil {
			return err
		}
		in, err := validate.ReadFiles(f.FS, cwd, f.IO.In, opts.Files, int64(opts.MaxSize))
		if err != nil {
			return err
		}
		// The mapped files stay until the process exits (no in.Close):
		// the report's strings, and those of an error returned to Run,
		// share their memory.
		in.Env = opts.Env
		if opts.Env != "" {
			r, err := f.Repo()
			if err != nil {
				return err
			}
			if e, ok := r.Lookup(opts.Env); ok {
				in.KubernetesVersion = kubeVersionOf(e)
			}
		}
		inputs = []validate.Input{in}
		envOf = []repo.Environment{{Name: opts.Env}}
		if opts.Env != "" {
			r, err := f.Repo()
			if err != nil {
				return err
			}
			if e, ok := r.Lookup(opts.Env); ok {
				envOf[0] = e
			}
		}
	} else {
		envs, err := f.Resolve(opts.Args, opts.All)
		if err != nil {
			return err
		}
		rendered, err := opts.Render.render(ctx, f, envs, nil)
		if err != nil {
			return err
		}
		r, err := f.Repo()
		if err != nil {
			return err
		}
		for _, rd := range rendered {
			env := rd.Env
			envOf = append(envOf, env)
			inputs = append(inputs, validate.Input{
				Env:               env.Name,
				KubernetesVersion: kubeVersionOf(env),
				Streams:           []validate.Stream{{Data: rd.Result.YAML}},
				Origins: func(ctx context.Context) (map[validate.Object]validate.Origin, error) {
					return validateOrigins(overlay.Origins(ctx, f.FS, r.Root, env.Path, overlay.Options{RemoteTimeout: opts.Render.Timeout, NoDecrypt: opts.Render.NoDecrypt}))
				},
			})
		}
	}

	var checks *validate.Checks
	r, err := f.Repo()
	if err != nil {
		return err
	}
	if opts.Env != "" {
		if _, ok := r.Lookup(opts.Env); !ok {
			return &repo.UnknownEnvironmentError{Name: opts.Env, Known: r.Names(), Repo: r.Root}
		}
	}
	if r.ConfigPath != "" {
		checks, err = validate.LoadChecks(f.FS, r.Root, &r.Config, opts.Strict)
		if err != nil {
			return err
		}
	}
	if opts.DryRun == "server" {
		src, err := opts.Cluster.source()
		if err != nil {
			return err
		}
		for i := range inputs {
			in, env := inputs[i], envOf[i]
			inputs[i].Server = func(ctx context.Context) ([]validate.ServerRefusal, error) {
				return serverDryRun(ctx, src, opts.Cluster.target(env), in)
			}
		}
	}
	v, err := validate.New(vopts, checks)
	if err != nil {
		return err
	}
	rep, err := v.Validate(ctx, inputs)
	if err != nil {
		return err
	}
	if len(opts.Files) == 0 && usesSOPS(r) {
		chk, err := checkSecrets(f, envOf)
		if err != nil {
			return err
		}
		addSecretFindings(rep, chk, envOf)
	}

	if err := printer.Print(f.IO.Out, rep); err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		warnf(f, "%s", w)
	}
	c := rep.Count(nil)
	switch {
	case c.Errors > 0:
		return fmt.Errorf("%s could not be validated", report.Plural(c.Errors, "object", "objects"))
	case c.Invalid > 0:
		return &FindingsError{Summary: fmt.Sprintf("%s invalid", report.Plural(c.Invalid, "object is", "objects are"))}
	}
	return nil
}

// serverDryRun sends an input's objects to its environment's cluster as
// a server-side dry run and returns what the API server refused.
// Clusters are connected once per kube context.
func serverDryRun(ctx context.Context, src *live.Clusters, t live.Target, in validate.Input) ([]validate.ServerRefusal, error) {
	where := in.Env
	if where == "" {
		where = "-f"
	}
	fail := func(err error) ([]validate.ServerRefusal, error) {
		return nil, fmt.Errorf("%s: --dry-run=server: %w", where, err)
	}
	c, err := src.Connect(ctx, t.Context)
	if err != nil {
		return fail(err)
	}
	ns := t.Namespace
	if ns == "" {
		if ns, err = src.DefaultNamespace(ctx, t); err != nil {
			return fail(err)
		}
	}
	var objs []*unstructured.Unstructured
	for _, st := range in.Streams {
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(st.Data), 4096)
		for {
			var m map[string]any
			if err := dec.Decode(&m); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				// validate reports what does not parse; the dry run
				// sends what came before it.
				break
			}
			if m == nil || m["kind"] == nil || strings.EqualFold(fmt.Sprint(m["kind"]), "List") {
				continue
			}
			objs = append(objs, &unstructured.Unstructured{Object: m})
		}
	}
	results, err := c.DryRun(ctx, ns, objs)
	if err != nil {
		return fail(err)
	}
	var out []validate.ServerRefusal
	for _, r := range results {
		o := objs[r.Index]
		id := validate.Object{APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
		for _, f := range r.Refused {
			out = append(out, validate.ServerRefusal{Object: id, Field: f.Field, Message: f.Message})
		}
	}
	return out, nil
}
