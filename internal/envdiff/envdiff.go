// Package envdiff compares rendered environments with their live state: it
// decides where live objects come from (a cluster or a snapshot file), what
// to read (the kinds and namespaces the environment renders), and runs the
// pure comparison in package drift.
package envdiff

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/repo"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// Target is one environment to compare.
type Target struct {
	Env repo.Environment
	// Rendered is the environment's rendered YAML stream.
	Rendered []byte
	// Ignore are the drift ignore rules that apply to it.
	Ignore []drift.IgnoreRule
	// Namespace overrides the environment's namespace (-n).
	Namespace string
}

// Source gives the live objects of an environment.
type Source interface {
	// Read returns the live objects for q, and the kinds it could not read.
	Read(ctx context.Context, env repo.Environment, q live.Query) (*live.Result, error)
	// DefaultNamespace is the namespace the source falls back to for env.
	DefaultNamespace(ctx context.Context, env repo.Environment) (string, error)
}

// Result is one environment's comparison.
type Result struct {
	Env      repo.Environment
	Report   *drift.Report
	Problems []live.Problem
	Lists    int
}

// Parse reads a rendered YAML stream into objects.
func Parse(rendered []byte) ([]*yaml.RNode, error) {
	return (&kio.ByteReader{Reader: bytes.NewReader(rendered), OmitReaderAnnotations: true}).Read()
}

// QueryFor is what to read for an environment: every kind it renders, in
// every namespace it renders into (and the default one), narrowed by its
// selector.
func QueryFor(desired []*yaml.RNode, defaultNS string, selector map[string]string) live.Query {
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
	q := live.Query{}
	for k := range kinds {
		q.Kinds = append(q.Kinds, k)
	}
	sort.Slice(q.Kinds, func(i, j int) bool { return q.Kinds[i].String() < q.Kinds[j].String() })
	for ns := range nss {
		if ns != "" {
			q.Namespaces = append(q.Namespaces, ns)
		}
	}
	sort.Strings(q.Namespaces)
	if len(selector) > 0 {
		q.Selector = labels.SelectorFromSet(selector).String()
	}
	return q
}

// Compare reads each target's live state from src and compares.
func Compare(ctx context.Context, src Source, targets []Target) ([]Result, error) {
	out := make([]Result, len(targets))
	errs := make([]error, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i], errs[i] = compareOne(ctx, src, t)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", targets[i].Env.Name, err)
		}
	}
	return out, nil
}

func compareOne(ctx context.Context, src Source, t Target) (Result, error) {
	desired, err := Parse(t.Rendered)
	if err != nil {
		return Result{}, fmt.Errorf("parsing the rendered objects: %w", err)
	}
	ns := t.Namespace
	if ns == "" {
		ns = t.Env.Namespace
	}
	if ns == "" {
		if ns, err = src.DefaultNamespace(ctx, t.Env); err != nil {
			return Result{}, err
		}
	}
	lr, err := src.Read(ctx, t.Env, QueryFor(desired, ns, t.Env.Selector))
	if err != nil {
		return Result{}, err
	}
	if err := live.MatchSecretDigests(desired, lr.Objects); err != nil {
		return Result{}, err
	}
	desired = withoutUnreadable(desired, lr.Problems, ns)
	rep, err := drift.Compare(desired, lr.Objects, drift.Options{
		Environment:      t.Env.Name,
		DefaultNamespace: ns,
		Ignore:           t.Ignore,
		Selector:         t.Env.Selector,
	})
	if err != nil {
		return Result{}, err
	}
	return Result{Env: t.Env, Report: rep, Problems: lr.Problems, Lists: lr.Lists}, nil
}

// withoutUnreadable drops desired objects of kinds that could not be read
// (forbidden), so they are reported as unreadable rather than as missing.
// Kinds the server does not serve stay: their objects are missing.
func withoutUnreadable(desired []*yaml.RNode, problems []live.Problem, defaultNS string) []*yaml.RNode {
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

// ClusterSource reads from live clusters, one connection per kube context.
type ClusterSource struct {
	Options live.ConnectOptions
	// Context overrides every environment's context (--context).
	Context string

	mu    sync.Mutex
	conns map[string]*conn
}

type conn struct {
	once sync.Once
	c    *live.Cluster
	err  error
}

func (s *ClusterSource) connect(ctx context.Context, env repo.Environment) (*live.Cluster, error) {
	o := s.Options
	if !o.InCluster {
		switch {
		case s.Context != "":
			o.Context = s.Context
		case env.Context != "":
			o.Context = env.Context
		}
	}
	s.mu.Lock()
	if s.conns == nil {
		s.conns = map[string]*conn{}
	}
	cn, ok := s.conns[o.Context]
	if !ok {
		cn = &conn{}
		s.conns[o.Context] = cn
	}
	s.mu.Unlock()
	cn.once.Do(func() { cn.c, cn.err = live.Connect(ctx, o) })
	if cn.err != nil && o.Context != "" && strings.Contains(cn.err.Error(), "context") {
		return nil, fmt.Errorf("environment %s (kube context %q): %w", env.Name, o.Context, cn.err)
	}
	return cn.c, cn.err
}

// Read implements Source.
func (s *ClusterSource) Read(ctx context.Context, env repo.Environment, q live.Query) (*live.Result, error) {
	c, err := s.connect(ctx, env)
	if err != nil {
		return nil, err
	}
	return c.Read(ctx, q)
}

// DefaultNamespace implements Source: the kube context's namespace.
func (s *ClusterSource) DefaultNamespace(ctx context.Context, env repo.Environment) (string, error) {
	c, err := s.connect(ctx, env)
	if err != nil {
		return "", err
	}
	if c.Namespace == "" {
		return "default", nil
	}
	return c.Namespace, nil
}

// SnapshotSource serves live objects from snapshot files.
type SnapshotSource struct {
	Objects []*yaml.RNode
}

// Read implements Source: the snapshot's objects of the queried kinds and
// namespaces that match the selector, as a LIST would have returned them.
func (s *SnapshotSource) Read(_ context.Context, _ repo.Environment, q live.Query) (*live.Result, error) {
	sel, err := labels.Parse(q.Selector)
	if err != nil {
		return nil, err
	}
	kinds := map[string]bool{}
	for _, k := range q.Kinds {
		kinds[k.Group+"/"+k.Kind] = true
	}
	nss := map[string]bool{"": true}
	for _, ns := range q.Namespaces {
		nss[ns] = true
	}
	res := &live.Result{}
	for _, o := range s.Objects {
		gv, _ := schema.ParseGroupVersion(o.GetApiVersion())
		if !kinds[gv.Group+"/"+o.GetKind()] || !nss[o.GetNamespace()] || !sel.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		res.Objects = append(res.Objects, o.Copy())
	}
	live.SortObjects(res.Objects)
	return res, nil
}

// DefaultNamespace implements Source.
func (s *SnapshotSource) DefaultNamespace(context.Context, repo.Environment) (string, error) {
	return "default", nil
}
