package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// DefaultRequestTimeout bounds each request to the API server unless
// --request-timeout says otherwise. kubectl's default is no timeout; a
// drift job in CI should rather fail than hang.
const DefaultRequestTimeout = 30 * time.Second

// ConnectOptions say which cluster to talk to, with kubectl's flags.
type ConnectOptions struct {
	// Kubeconfig is --kubeconfig; "" means $KUBECONFIG or ~/.kube/config.
	Kubeconfig string
	// Overrides are kubectl's connection flags (--context, --server,
	// --token, --as, -n, --request-timeout, ...), applied over the
	// kubeconfig exactly as kubectl applies them (clientcmd).
	Overrides clientcmd.ConfigOverrides
	// InCluster uses the pod's service account instead of a kubeconfig,
	// for the drift job running inside the cluster.
	InCluster bool
}

// RequestTimeout is --request-timeout as kubectl reads it ("30" is
// seconds, "0" no timeout); "" is DefaultRequestTimeout.
func (o ConnectOptions) RequestTimeout() (time.Duration, error) {
	if o.Overrides.Timeout == "" {
		return DefaultRequestTimeout, nil
	}
	d, err := clientcmd.ParseTimeout(o.Overrides.Timeout)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("--request-timeout %q: want a duration such as 30s or 2m, a whole number of seconds, or 0 for none", o.Overrides.Timeout)
	}
	return d, nil
}

// Cluster is a connection to one API server. Its reads (Read) never
// write; RESTConfig, Dynamic and Mapping hand out the same connection to
// code that does (apply).
type Cluster struct {
	// Server is the API server URL, for messages.
	Server string
	// Namespace is the kubeconfig context's namespace, if it sets one.
	Namespace string

	cfg     *rest.Config
	dyn     dynamic.Interface
	disc    *discovery
	timeout time.Duration
}

// UnreachableError is a cluster that did not answer.
type UnreachableError struct {
	Server string
	Err    error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the API server %s: %v", e.Server, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// Connect loads the kubeconfig as kubectl does (contexts, flag overrides,
// exec credential plugins) and checks that the API server answers within
// the request timeout.
func Connect(ctx context.Context, o ConnectOptions) (*Cluster, error) {
	timeout, err := o.RequestTimeout()
	if err != nil {
		return nil, err
	}
	var cfg *rest.Config
	var ns string
	if o.InCluster {
		c, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("--in-cluster: %w", err)
		}
		cfg = c
		ns = o.Overrides.Context.Namespace
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		rules.ExplicitPath = o.Kubeconfig
		overrides := o.Overrides
		cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &overrides)
		c, err := cc.ClientConfig()
		if err != nil {
			if overrides.CurrentContext != "" {
				return nil, fmt.Errorf("kube context %q: loading kubeconfig: %w", overrides.CurrentContext, err)
			}
			return nil, fmt.Errorf("loading kubeconfig: %w", err)
		}
		cfg = c
		ns, _, _ = cc.Namespace()
	}
	cfg = rest.CopyConfig(cfg)
	cfg.Timeout = timeout
	// A dead address should fail within the timeout, not the OS's minutes.
	dial := timeout
	if dial == 0 {
		dial = DefaultRequestTimeout
	}
	dialer := &net.Dialer{Timeout: dial, KeepAlive: 30 * time.Second}
	cfg.Dial = dialer.DialContext
	// Reads of a few hundred objects come in a few dozen LISTs; the
	// client-side limiter's default of 5 QPS would dominate the run.
	cfg.QPS, cfg.Burst = 100, 200
	cfg.UserAgent = "envctl"

	httpClient, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Server: cfg.Host, Namespace: ns, cfg: cfg, timeout: timeout}
	c.disc = &discovery{host: cfg.Host, client: httpClient, resources: map[schema.GroupVersion]*gvResult{}}
	vctx, cancel := withTimeout(ctx, timeout)
	defer cancel()
	if err := c.disc.version(vctx); err != nil {
		return nil, classify(c.Server, err)
	}
	if c.dyn, err = dynamic.NewForConfigAndClient(cfg, httpClient); err != nil {
		return nil, err
	}
	return c, nil
}

// withTimeout is context.WithTimeout where 0 means no timeout, as
// kubectl's --request-timeout=0 does.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}

// RESTConfig returns a copy of the connection's configuration (the
// credentials, timeout and rate limits Connect chose), for clients that
// write.
func (c *Cluster) RESTConfig() *rest.Config { return rest.CopyConfig(c.cfg) }

// Dynamic is the connection's dynamic client.
func (c *Cluster) Dynamic() dynamic.Interface { return c.dyn }

// Mapping maps a kind to its resource and scope, asking the server about
// the kind's group/version only (cached for the connection's life).
func (c *Cluster) Mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	return c.disc.mapping(ctx, gvk)
}

// ForgetDiscovery drops what the connection learnt about served kinds:
// after a CRD is established, its group is asked about again.
func (c *Cluster) ForgetDiscovery() {
	c.disc.mu.Lock()
	defer c.disc.mu.Unlock()
	c.disc.resources = map[schema.GroupVersion]*gvResult{}
	c.disc.groups = nil
}

// classify turns transport failures into a message naming the server.
func classify(server string, err error) error {
	var ue *url.Error
	var ne net.Error
	switch {
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the API server %s refused the credentials: %w", server, err)
	case errors.As(err, &ue), errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded):
		return &UnreachableError{Server: server, Err: err}
	}
	return fmt.Errorf("%s: %w", server, err)
}

// Query says what to read: every object of these kinds in these namespaces.
type Query struct {
	// Kinds are the group/version/kinds to list, typically every kind the
	// environment renders.
	Kinds []schema.GroupVersionKind
	// Namespaces are where namespaced kinds are listed.
	Namespaces []string
	// Selector is a label selector that narrows every LIST ("" = all).
	Selector string
	// Jobs bounds concurrent LISTs; 0 means 8.
	Jobs int
}

// Problem is a kind that could not be read; the rest were.
type Problem struct {
	Kind      schema.GroupVersionKind
	Namespace string
	// Reason is "forbidden", "not served" or "error".
	Reason string
	Err    error
}

func (p Problem) String() string {
	where := ""
	if p.Namespace != "" {
		where = " in namespace " + p.Namespace
	}
	return fmt.Sprintf("%s %s%s: %s", p.Kind.GroupVersion(), p.Kind.Kind, where, p.Err)
}

// Result is what a Read found.
type Result struct {
	// Objects are the live objects, sorted by kind, namespace and name.
	Objects []*yaml.RNode
	// Problems are the kinds that could not be read.
	Problems []Problem
	// Lists is the number of LIST calls made.
	Lists int
	// Digests, set by a snapshot and never by a cluster, says that Secret
	// values in Objects are digests, checked with it.
	Digests *Hasher
}

// Read lists every queried kind once per namespace (once in all for
// cluster-scoped kinds). Kinds the user may not list or the server does not
// serve are Problems; other failures abort the read.
func (c *Cluster) Read(ctx context.Context, q Query) (*Result, error) {
	type call struct {
		gvk     schema.GroupVersionKind
		mapping *meta.RESTMapping
		ns      string
	}
	var calls []call
	res := &Result{}
	seen := map[string]bool{}
	for _, gvk := range q.Kinds {
		m, err := c.disc.mapping(ctx, gvk)
		switch {
		case meta.IsNoMatchError(err):
			res.Problems = append(res.Problems, Problem{Kind: gvk, Reason: "not served", Err: fmt.Errorf("the server does not serve this kind")})
			continue
		case apierrors.IsForbidden(err):
			res.Problems = append(res.Problems, Problem{Kind: gvk, Reason: "forbidden", Err: fmt.Errorf("forbidden: the user may not discover %s", gvk.GroupVersion())})
			continue
		case err != nil:
			return nil, classify(c.Server, err)
		}
		namespaces := []string{""}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			namespaces = q.Namespaces
		}
		for _, ns := range namespaces {
			key := m.Resource.String() + "/" + ns
			if !seen[key] {
				seen[key] = true
				calls = append(calls, call{gvk, m, ns})
			}
		}
	}
	jobs := q.Jobs
	if jobs <= 0 {
		jobs = 8
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, cl := range calls {
		g.Go(func() error {
			objs, err := c.list(gctx, cl.mapping, cl.ns, q.Selector)
			mu.Lock()
			defer mu.Unlock()
			res.Lists++
			switch {
			case err == nil:
				res.Objects = append(res.Objects, objs...)
			case apierrors.IsForbidden(err):
				res.Problems = append(res.Problems, Problem{Kind: cl.gvk, Namespace: cl.ns, Reason: "forbidden", Err: fmt.Errorf("forbidden: the user may not list %s", cl.mapping.Resource.GroupResource())})
			case apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err):
				res.Problems = append(res.Problems, Problem{Kind: cl.gvk, Namespace: cl.ns, Reason: "not served", Err: err})
			default:
				return classify(c.Server, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	SortObjects(res.Objects)
	sort.Slice(res.Problems, func(i, j int) bool { return res.Problems[i].String() < res.Problems[j].String() })
	return res, nil
}

func (c *Cluster) list(ctx context.Context, m *meta.RESTMapping, ns, selector string) ([]*yaml.RNode, error) {
	var ri dynamic.ResourceInterface = c.dyn.Resource(m.Resource)
	if ns != "" {
		ri = c.dyn.Resource(m.Resource).Namespace(ns)
	}
	var out []*yaml.RNode
	opts := metav1.ListOptions{LabelSelector: selector, Limit: 500}
	for {
		ctx, cancel := withTimeout(ctx, c.timeout)
		l, err := ri.List(ctx, opts)
		cancel()
		if err != nil {
			return nil, err
		}
		for _, item := range l.Items {
			// LIST returns items without apiVersion/kind set by some
			// servers' conversions; the list's own is authoritative.
			if item.GetKind() == "" {
				item.SetAPIVersion(m.GroupVersionKind.GroupVersion().String())
				item.SetKind(m.GroupVersionKind.Kind)
			}
			n, err := yaml.FromMap(item.Object)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		if l.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = l.GetContinue()
	}
}

// SortObjects orders objects by apiVersion, kind, namespace and name, so
// output never depends on the order the server or the goroutines chose.
func SortObjects(objs []*yaml.RNode) {
	key := func(n *yaml.RNode) string {
		return strings.Join([]string{n.GetApiVersion(), n.GetKind(), n.GetNamespace(), n.GetName()}, "\x00")
	}
	sort.SliceStable(objs, func(i, j int) bool { return key(objs[i]) < key(objs[j]) })
}

var selfSubjectReviews = schema.GroupVersionResource{Group: "authentication.k8s.io", Version: "v1", Resource: "selfsubjectreviews"}

// WhoAmI returns the user name the API server authenticated the
// connection as (a SelfSubjectReview, kubectl auth whoami), for the
// release record. It creates nothing that is stored.
func (c *Cluster) WhoAmI(ctx context.Context) (string, error) {
	req := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "authentication.k8s.io/v1",
		"kind":       "SelfSubjectReview",
	}}
	ctx, cancel := withTimeout(ctx, c.timeout)
	defer cancel()
	got, err := c.dyn.Resource(selfSubjectReviews).Create(ctx, req, metav1.CreateOptions{})
	if err != nil {
		return "", classify(c.Server, err)
	}
	name, _, _ := unstructured.NestedString(got.Object, "status", "userInfo", "username")
	return name, nil
}
