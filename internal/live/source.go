package live

import (
	"context"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Target is where an environment lives: the kube context of its cluster,
// its default namespace and the labels that select its objects.
type Target struct {
	// Context is the kubeconfig context; "" means the current one.
	Context string
	// Namespace is where objects that set none go; "" means the source's
	// default (the context's namespace, else "default").
	Namespace string
	// Selector narrows every read to the environment's objects.
	Selector map[string]string
	// Kinds and Namespaces are read beside the desired objects' own: those
	// of a deploy's inventory, whose objects the render may have lost.
	Kinds      []schema.GroupVersionKind
	Namespaces []string
}

// Source gives the live objects of a target.
type Source interface {
	// Read returns the live objects for q, and the kinds it could not read.
	Read(ctx context.Context, t Target, q Query) (*Result, error)
	// DefaultNamespace is the namespace the source falls back to for t
	// when t names none.
	DefaultNamespace(ctx context.Context, t Target) (string, error)
}

// State is what is live for an environment's desired objects.
type State struct {
	// Namespace is the target's namespace, resolved.
	Namespace string
	// Desired are the desired objects whose kinds could be read: objects
	// of a kind the user may not read are left out, so that they are
	// reported as unreadable (Problems) rather than as missing.
	Desired []*yaml.RNode
	// Live are the live objects, sorted.
	Live []*yaml.RNode
	// Problems are the kinds that could not be read.
	Problems []Problem
	// Lists is the number of LIST calls made.
	Lists int
	// Query is what was read.
	Query Query
}

// ReadFor reads what is live for desired, the objects an environment
// renders: every kind it renders, in every namespace it renders into, as
// QueryFor says. Secret values of a snapshot are compared as digests
// (MatchSecretDigests).
func ReadFor(ctx context.Context, src Source, t Target, desired []*yaml.RNode) (*State, error) {
	ns := t.Namespace
	if ns == "" {
		var err error
		if ns, err = src.DefaultNamespace(ctx, t); err != nil {
			return nil, err
		}
	}
	q := QueryFor(desired, ns, t.Selector)
	q.Kinds = union(q.Kinds, t.Kinds, func(k schema.GroupVersionKind) string { return k.String() })
	q.Namespaces = union(q.Namespaces, t.Namespaces, func(n string) string { return n })
	res, err := src.Read(ctx, t, q)
	if err != nil {
		return nil, err
	}
	if res.Digests != nil {
		// Only a snapshot says its Secrets hold digests: a live Secret
		// that looks like one is compared as the value it is.
		if err := MatchSecretDigests(desired, res.Objects, ns, *res.Digests); err != nil {
			return nil, err
		}
	}
	return &State{
		Query:     q,
		Namespace: ns,
		Desired:   readable(desired, res.Problems, ns),
		Live:      res.Objects,
		Problems:  res.Problems,
		Lists:     res.Lists,
	}, nil
}

// QueryFor is what to read for an environment: every kind it renders, in
// every namespace it renders into (and the default one), narrowed by its
// selector.
func QueryFor(desired []*yaml.RNode, defaultNS string, selector map[string]string) Query {
	kinds := map[schema.GroupVersionKind]bool{}
	nss := map[string]bool{defaultNS: true}
	for _, o := range desired {
		gv, err := schema.ParseGroupVersion(o.GetApiVersion())
		if err != nil {
			continue
		}
		kinds[gv.WithKind(o.GetKind())] = true
		if ns := o.GetNamespace(); ns != "" {
			nss[ns] = true
		}
	}
	q := Query{}
	for k := range kinds {
		q.Kinds = append(q.Kinds, k)
	}
	sort.Slice(q.Kinds, func(i, j int) bool { return q.Kinds[i].String() < q.Kinds[j].String() })
	for ns := range nss {
		if ns != "" {
			q.Namespaces = append(q.Namespaces, ns)
		}
	}
	slices.Sort(q.Namespaces)
	if len(selector) > 0 {
		q.Selector = labels.SelectorFromSet(selector).String()
	}
	return q
}

// union returns a and the items of b not in a, sorted by key.
func union[T any](a, b []T, key func(T) string) []T {
	seen := map[string]bool{}
	var out []T
	for _, x := range append(slices.Clone(a), b...) {
		if k := key(x); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, x)
		}
	}
	slices.SortFunc(out, func(x, y T) int { return strings.Compare(key(x), key(y)) })
	return out
}

// readable drops desired objects of kinds that could not be read
// (forbidden). Kinds the server does not serve stay: their objects are
// missing.
func readable(desired []*yaml.RNode, problems []Problem, defaultNS string) []*yaml.RNode {
	skip := map[string]bool{}
	for _, p := range problems {
		if p.Reason != "not served" {
			skip[p.Kind.Group+"/"+p.Kind.Kind+"/"+p.Namespace] = true
		}
	}
	if len(skip) == 0 {
		return desired
	}
	var out []*yaml.RNode
	for _, o := range desired {
		gv, _ := schema.ParseGroupVersion(o.GetApiVersion())
		k := gv.Group + "/" + o.GetKind() + "/"
		if skip[k+o.GetNamespace()] || (o.GetNamespace() == "" && skip[k+defaultNS]) {
			continue
		}
		out = append(out, o)
	}
	return out
}

// Clusters is a Source that reads live clusters, connecting once per kube
// context however many environments share it.
type Clusters struct {
	// Options are the connection flags; a target's Context, when set,
	// replaces their context.
	Options ConnectOptions

	mu    sync.Mutex
	conns map[string]*conn
}

type conn struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Connect returns the connection for a kube context ("" is the options'
// own), connecting on first use.
func (s *Clusters) Connect(ctx context.Context, kubeContext string) (*Cluster, error) {
	o := s.Options
	if kubeContext != "" && !o.InCluster {
		o.Overrides.CurrentContext = kubeContext
	}
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[string]*conn{}
	}
	cn, ok := s.conns[o.Overrides.CurrentContext]
	if !ok {
		cn = &conn{}
		s.conns[o.Overrides.CurrentContext] = cn
	}
	s.mu.Unlock()
	cn.once.Do(func() { cn.c, cn.err = Connect(ctx, o) })
	return cn.c, cn.err
}

// Read implements Source.
func (s *Clusters) Read(ctx context.Context, t Target, q Query) (*Result, error) {
	c, err := s.Connect(ctx, t.Context)
	if err != nil {
		return nil, err
	}
	return c.Read(ctx, q)
}

// DefaultNamespace implements Source: the kube context's namespace, else
// "default".
func (s *Clusters) DefaultNamespace(ctx context.Context, t Target) (string, error) {
	c, err := s.Connect(ctx, t.Context)
	if err != nil {
		return "", err
	}
	if c.Namespace == "" {
		return "default", nil
	}
	return c.Namespace, nil
}
