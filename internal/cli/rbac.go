package cli

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/rbac"
	"github.com/envctl/envctl/internal/render"
)

// defaultDriftServiceAccount is deploy/drift-job's service account.
const defaultDriftServiceAccount = "envctl-system/envctl-drift"

// RBACOptions are the inputs of `envctl rbac`.
type RBACOptions struct {
	Factory        *Factory
	Args           []string
	All            bool
	ServiceAccount string
	ReleaseHistory bool
	Render         renderFlags
	Cluster        clusterFlags
}

// NewCmdRBAC returns `envctl rbac`.
func NewCmdRBAC(f *Factory, runF func(context.Context, *RBACOptions) error) *cobra.Command {
	opts := &RBACOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "rbac ENV... | --all [--service-account NAMESPACE/NAME]",
		Short: "Print the least RBAC that 'envctl diff' needs to read environments (for the drift job)",
		Long: `Print, as a multi-document YAML stream for kubectl apply, the Kubernetes RBAC
that lets a service account run 'envctl diff' on the environments and
nothing more:

  - a Role and RoleBinding in each namespace the environments render into
    (and each environment's default namespace), granting get and list on
    every namespaced resource they render: diff lists each rendered kind
    once per namespace;
  - only when they render cluster-scoped objects (Namespace,
    CustomResourceDefinition, ClusterRole, ...), a ClusterRole and
    ClusterRoleBinding granting get and list on those resources.

No subresources (pods/log, pods/exec, nodes/proxy), no wildcards, no verb
but get and list. Secrets are granted only where an environment renders
Secrets, and there diff also reads envctl apply's release history; with
--release-history, Secrets are granted in each environment's namespace
even when it renders none, so that diff finds orphans by the latest
release's inventory instead of by selector labels. Discovery (/version,
/api, /apis) needs no rule: Kubernetes grants it to every authenticated
user.

Kinds are mapped to resources offline: built-in kinds from the Kubernetes
API (the environment's kubeVersion in envctl.yaml first, then every version
envctl knows), custom resources from a CustomResourceDefinition in the
render or under envctl.yaml's crds:. A kind neither knows is an error,
unless a kubectl connection flag (--context, --kubeconfig, --server,
--token) is given: then, for those kinds only, the environment's cluster
is asked (API discovery, read only). Otherwise no cluster is contacted.
-n gives the namespace of environments that set none in envctl.yaml, as
for diff. No secret is ever decrypted: only kinds and namespaces matter,
so SOPS sources render with placeholders and no key is needed.

Regenerate and apply the output when an environment starts rendering a new
kind or namespace; until then diff reports that kind as forbidden (exit 2).
Every object is named NAME-reader after the service account.`,
		Example: `  # RBAC for the drift job of every environment (deploy/drift-job/rbac.yaml)
  envctl rbac --all > deploy/drift-job/rbac.yaml

  # For a CI service account that checks staging only
  envctl rbac staging --service-account ci/drift-checker | kubectl apply -f -

  # Custom resources whose CRD is not in the repository: ask the cluster
  envctl rbac prod --context prod-admin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runRBAC(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.All, "all", false, "grant what diff needs for every registered environment")
	fl.StringVar(&opts.ServiceAccount, "service-account", defaultDriftServiceAccount, "the service account (NAMESPACE/NAME) the bindings grant to")
	fl.BoolVar(&opts.ReleaseHistory, "release-history", false, "grant get and list on Secrets in each environment's namespace even where it renders none, so diff reads envctl apply's release history")
	opts.Render.register(fl)
	// Only kinds and namespaces are needed: never decrypt.
	_ = fl.MarkHidden("no-decrypt")
	opts.Cluster.register(fl)
	return cmd
}

func runRBAC(ctx context.Context, opts *RBACOptions) error {
	f := opts.Factory
	sa, err := rbac.ParseServiceAccount(opts.ServiceAccount)
	if err != nil {
		return usageErrorf("--service-account: %v", err)
	}
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	r, err := f.Repo()
	if err != nil {
		return err
	}
	crds, err := rbac.ReadCRDs(f.FS, r.Root, r.Config.CRDs)
	if err != nil {
		return err
	}
	req, err := opts.Render.request(f, envs, nil)
	if err != nil {
		return err
	}
	req.NoDecrypt = true
	stop := opts.Render.showProgress(f, &req)
	rendered, err := render.Render(ctx, req)
	stop()
	if err != nil {
		return err
	}
	in := make([]rbac.Environment, len(rendered))
	for i, rd := range rendered {
		objs, err := manifest.Parse(rd.Result.YAML)
		if err != nil {
			return fmt.Errorf("%s: parsing the rendered objects: %w", rd.Env.Name, err)
		}
		// -n wins over envctl.yaml, as for diff (clusterFlags.target).
		t := opts.Cluster.target(rd.Env)
		in[i] = rbac.Environment{Name: rd.Env.Name, Namespace: t.Namespace, Context: t.Context, KubeVersion: rd.Env.KubeVersion, Objects: objs}
	}
	ropts := rbac.Options{ServiceAccount: sa, CRDs: crds, ReleaseHistory: opts.ReleaseHistory}
	// A flag that names a cluster (not -n, which only says where objects
	// go) lets the kinds nothing offline knows be asked about there.
	o := opts.Cluster.Overrides
	if opts.Cluster.Kubeconfig != "" || opts.Cluster.InCluster || o.CurrentContext != "" || o.ClusterInfo.Server != "" || o.AuthInfo.Token != "" {
		src, err := opts.Cluster.source()
		if err != nil {
			return err
		}
		ropts.Discover = rbac.Discovery(ctx, src)
	}
	g, err := rbac.For(in, ropts)
	if err != nil {
		return err
	}
	// Written whole or not at all: a partial grant piped to kubectl apply
	// would look like success.
	var b bytes.Buffer
	if err := rbac.Write(&b, g, rbacCommand(opts)); err != nil {
		return err
	}
	_, err = f.IO.Out.Write(b.Bytes())
	return err
}

// rbacCommand is the command line that regenerates the output, for its
// header: the arguments that change it, in a fixed order.
func rbacCommand(opts *RBACOptions) string {
	parts := []string{"envctl rbac"}
	if opts.All {
		parts = append(parts, "--all")
	}
	parts = append(parts, opts.Args...)
	parts = append(parts, "--service-account", opts.ServiceAccount)
	if c := opts.Cluster.Overrides.CurrentContext; c != "" {
		parts = append(parts, "--context", c)
	}
	if ns := opts.Cluster.Overrides.Context.Namespace; ns != "" {
		parts = append(parts, "-n", ns)
	}
	if opts.ReleaseHistory {
		parts = append(parts, "--release-history")
	}
	return strings.Join(parts, " ")
}
