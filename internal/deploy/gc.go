package deploy

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
)

// GCResult is what gc removed and what it kept, with why.
type GCResult struct {
	// Release is the deployed release whose retained generations were
	// looked at.
	Release int
	Deleted []drift.ObjectID
	Kept    []Step
}

// GC deletes the old generations of hashed ConfigMaps and Secrets that
// the deployed release retains and nothing uses any more: no live
// ReplicaSet, ControllerRevision or Job refers to them, and none of the
// last keep releases rendered them. It holds the environment's lock
// while it deletes; with dryRun it only reports.
func GC(ctx context.Context, c *live.Cluster, t Target, keep int, dryRun bool, holder string) (*GCResult, error) {
	store := &Store{Client: c.Dynamic(), Namespace: t.Namespace, Environment: t.Environment}
	hist, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	var cur *Release
	for _, r := range hist {
		if r.Status == StatusDeployed {
			cur = r
			break
		}
	}
	if cur == nil {
		return nil, fmt.Errorf("%s has no deployed release (envctl history %s)", t.Environment, t.Environment)
	}
	res := &GCResult{Release: cur.Revision}
	var retained []Item
	nss := map[string]bool{t.Namespace: true}
	for _, it := range cur.Inventory {
		if it.Retained {
			retained = append(retained, it)
			nss[it.Namespace] = true
		}
	}
	if len(retained) == 0 {
		return res, nil
	}
	q := live.Query{Kinds: []schema.GroupVersionKind{
		{Version: "v1", Kind: "ConfigMap"},
		{Version: "v1", Kind: "Secret"},
		{Group: "apps", Version: "v1", Kind: "ReplicaSet"},
		{Group: "apps", Version: "v1", Kind: "ControllerRevision"},
		{Group: "batch", Version: "v1", Kind: "Job"},
	}}
	for ns := range nss {
		if ns != "" {
			q.Namespaces = append(q.Namespaces, ns)
		}
	}
	slices.Sort(q.Namespaces)
	lv, err := c.Read(ctx, q)
	if err != nil {
		return nil, err
	}
	for _, p := range lv.Problems {
		// Without seeing every user, nothing can be called unused.
		return nil, fmt.Errorf("cannot tell which old generations are unused: %s", p)
	}
	byKey := map[drift.ObjectID]*yaml.RNode{}
	for _, o := range lv.Objects {
		byKey[keyOf(idOf(o))] = o
	}
	used := usedGenerations(lv.Objects, hist, keep, nil)
	var doomed []*Step
	gone := map[drift.ObjectID]bool{}
	for _, it := range retained {
		l := byKey[keyOf(it.ObjectID)]
		if l == nil {
			gone[keyOf(it.ObjectID)] = true
			continue
		}
		if why := used[it.Kind+"/"+it.Namespace+"/"+it.Name]; why != "" {
			res.Kept = append(res.Kept, Step{ID: it.ObjectID, Action: ActionRetain, Why: why})
			continue
		}
		doomed = append(doomed, &Step{ID: it.ObjectID, Action: ActionPrune, Namespaced: true, uid: types.UID(uidOf(l))})
	}
	for _, s := range doomed {
		res.Deleted = append(res.Deleted, s.ID)
	}
	if dryRun || len(doomed)+len(gone) == 0 {
		return res, nil
	}
	dyn, err := writer(c, &warnings{})
	if err != nil {
		return nil, err
	}
	lock, err := Acquire(ctx, dyn, t.Namespace, t.Environment, holder, 0)
	if err != nil {
		return nil, err
	}
	defer func() { _ = lock.Release(context.WithoutCancel(ctx)) }()
	a := &applier{cluster: c, dyn: dyn, jobs: 8}
	if err := a.each(ctx, doomed, a.deleteOne); err != nil {
		return nil, err
	}
	for _, s := range doomed {
		gone[keyOf(s.ID)] = true
	}
	// The release no longer keeps what is gone.
	full, err := store.Get(ctx, cur.Revision)
	if err != nil {
		return nil, err
	}
	full.Inventory = slices.DeleteFunc(full.Inventory, func(it Item) bool { return it.Retained && gone[keyOf(it.ObjectID)] })
	return res, store.Update(ctx, full)
}
