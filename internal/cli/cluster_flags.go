package cli

import (
	"time"

	"github.com/envctl/envctl/internal/envdiff"
	"github.com/envctl/envctl/internal/live"
	"github.com/spf13/pflag"
)

// clusterFlags are kubectl's connection flags, shared by the commands that
// read clusters.
type clusterFlags struct {
	Kubeconfig     string
	Context        string
	Namespace      string
	RequestTimeout time.Duration
	InCluster      bool
}

func (c *clusterFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.Kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default $KUBECONFIG, else ~/.kube/config)")
	fs.StringVar(&c.Context, "context", "", "kubeconfig context to use for every environment (default: each environment's context from envctl.yaml, else the current context)")
	fs.StringVarP(&c.Namespace, "namespace", "n", "", "namespace for objects that do not set one (default: the environment's namespace from envctl.yaml, else the context's)")
	fs.DurationVar(&c.RequestTimeout, "request-timeout", live.DefaultRequestTimeout, "give up on an API server that does not answer within this time")
	fs.BoolVar(&c.InCluster, "in-cluster", false, "use the pod's service account (for the drift job inside the cluster); ignores kubeconfig contexts")
}

func (c *clusterFlags) source() (*envdiff.ClusterSource, error) {
	if c.RequestTimeout <= 0 {
		return nil, usageErrorf("--request-timeout must be positive, got %s", c.RequestTimeout)
	}
	if c.InCluster && (c.Kubeconfig != "" || c.Context != "") {
		return nil, usageErrorf("--in-cluster excludes --kubeconfig and --context")
	}
	return &envdiff.ClusterSource{
		Options: live.ConnectOptions{Kubeconfig: c.Kubeconfig, RequestTimeout: c.RequestTimeout, InCluster: c.InCluster},
		Context: c.Context,
	}, nil
}
