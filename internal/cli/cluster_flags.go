package cli

import (
	"context"

	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/repo"
	"github.com/spf13/pflag"
	"k8s.io/client-go/tools/clientcmd"
)

// clusterFlags are kubectl's connection flags, shared by the commands that
// read clusters. They are bound by client-go's clientcmd, the code kubectl's
// own flags are built on, so each is parsed exactly as kubectl parses it
// (--request-timeout 30 is seconds, 0 is none). k8s.io/cli-runtime's
// ConfigFlags would give the same flags, but it links client-go's typed
// API groups into every command: +31 MB of binary and their package
// initialisation on every start, for nothing these flags need.
type clusterFlags struct {
	Kubeconfig string
	Overrides  clientcmd.ConfigOverrides
	InCluster  bool
}

func (c *clusterFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	names.CurrentContext.Description = "kubeconfig context to use for every environment (default: each environment's context from envctl.yaml, else the current context)"
	names.ContextOverrideFlags.Namespace.Description = "namespace for objects that do not set one (default: the environment's namespace from envctl.yaml, else the context's)"
	names.ClusterOverrideFlags.APIServer.ShortName = "s" // as in kubectl
	names.Timeout.Default = live.DefaultRequestTimeout.String()
	names.Timeout.Description = "give up on an API server request that takes longer (30s, 2m, 30 for seconds, 0 for no timeout)"
	// Basic authentication is gone from Kubernetes; kubectl hides these.
	names.AuthOverrideFlags.Username.LongName = ""
	names.AuthOverrideFlags.Password.LongName = ""
	clientcmd.BindOverrideFlags(&c.Overrides, fs, names)
	fs.BoolVar(&c.InCluster, "in-cluster", false, "use the pod's service account (for the drift job inside the cluster); ignores kubeconfig contexts")
}

// changed reports whether any flag that chooses a cluster is set, for
// the offline modes that must refuse them.
func (c *clusterFlags) changed() bool {
	o := c.Overrides
	return c.Kubeconfig != "" || c.InCluster || o.CurrentContext != "" || o.Context.Namespace != "" ||
		o.ClusterInfo.Server != "" || o.AuthInfo.Token != ""
}

// source checks the flags and returns the clusters they reach.
func (c *clusterFlags) source() (*live.Clusters, error) {
	o := live.ConnectOptions{Kubeconfig: c.Kubeconfig, Overrides: c.Overrides, InCluster: c.InCluster}
	if _, err := o.RequestTimeout(); err != nil {
		return nil, usageErrorf("%v", err)
	}
	if c.InCluster && (c.Kubeconfig != "" || c.Overrides.CurrentContext != "") {
		return nil, usageErrorf("--in-cluster excludes --kubeconfig and --context")
	}
	return &live.Clusters{Options: o}, nil
}

// target is where env lives: --context and -n win over envctl.yaml.
func (c *clusterFlags) target(env repo.Environment) live.Target {
	t := live.Target{Context: env.Context, Namespace: env.Namespace, Selector: env.Selector}
	if c.Overrides.CurrentContext != "" {
		t.Context = c.Overrides.CurrentContext
	}
	if c.Overrides.Context.Namespace != "" {
		t.Namespace = c.Overrides.Context.Namespace
	}
	return t
}

// connect returns the connection to t's cluster and t's namespace,
// falling back to the context's namespace, else "default", as diff does.
func connect(ctx context.Context, src *live.Clusters, t live.Target) (*live.Cluster, string, error) {
	c, err := src.Connect(ctx, t.Context)
	if err != nil {
		return nil, "", err
	}
	ns := t.Namespace
	if ns == "" {
		if ns, err = src.DefaultNamespace(ctx, t); err != nil {
			return nil, "", err
		}
	}
	return c, ns, nil
}

// envConn is one environment and the connection to its cluster.
type envConn struct {
	env    repo.Environment
	src    *live.Clusters
	target live.Target
	c      *live.Cluster
	ns     string
}

// connectEnv resolves the environment name and connects to its cluster,
// for the commands that work on one environment's cluster.
func (c *clusterFlags) connectEnv(ctx context.Context, f *Factory, name string) (*envConn, error) {
	envs, err := f.Resolve([]string{name}, false)
	if err != nil {
		return nil, err
	}
	ec := &envConn{env: envs[0], target: c.target(envs[0])}
	if ec.src, err = c.source(); err != nil {
		return nil, err
	}
	if ec.c, ec.ns, err = connect(ctx, ec.src, ec.target); err != nil {
		return nil, err
	}
	return ec, nil
}
