package deploy

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
)

// Action is what an apply does with one object.
type Action string

const (
	ActionCreate    Action = "create"
	ActionChange    Action = "change"
	ActionUnchanged Action = "unchanged"
	ActionPrune     Action = "prune"
	// ActionRetain: an old generation of a hashed ConfigMap or Secret
	// that is no longer rendered but still used; kept for gc.
	ActionRetain Action = "retain"
	// ActionKeep: no longer rendered, but of a kind that is pruned only
	// when asked (Namespaces, CRDs, PVCs); left alone.
	ActionKeep Action = "keep"
)

// Step is one object of a plan.
type Step struct {
	ID     drift.ObjectID `json:"id"`
	Action Action         `json:"action"`
	// Why says why an object changes, is retained or kept.
	Why string `json:"why,omitempty"`
	// Changes are the fields that differ (Secret values masked).
	Changes []drift.FieldChange `json:"changes,omitempty"`
	// Rolls are the workloads a new ConfigMap or Secret generation rolls.
	Rolls []drift.ObjectID `json:"rolls,omitempty"`
	// Object is the desired object, namespace filled in (nil for prune,
	// retain and keep).
	Object *yaml.RNode `json:"-"`
	// Namespaced is the kind's scope on the server.
	Namespaced bool `json:"-"`
	// Mapping is the kind's resource; nil for a custom resource whose CRD
	// this apply creates (resolved after the CRD is established).
	Mapping *meta.RESTMapping `json:"-"`

	// rawKey and raw are the object as rendered (namespace not filled
	// in), to compare with the previous release's render.
	rawKey drift.ObjectID
	raw    string
	// uid and resourceVersion are the live object's, for prune's
	// precondition and for pinning a reviewed plan.
	uid             types.UID
	resourceVersion string
	// live is the live object of a change, for the server dry run.
	live *yaml.RNode
}

// Plan is what an apply of one environment will do.
type Plan struct {
	Environment string `json:"environment"`
	Namespace   string `json:"namespace"`
	// Revision is the release the apply will record.
	Revision int    `json:"revision"`
	Steps    []Step `json:"steps"`
	// Previous is the newest deployed release (nil on a first apply).
	Previous *Release `json:"-"`
	// Leftover are pending or failed releases newer than Previous: applies
	// that were killed or failed. Their inventories are pruned from too.
	Leftover []*Release `json:"-"`
	// History is every release, newest first.
	History []*Release `json:"-"`
	// Warnings are the server's, from a dry run.
	Warnings []Warning `json:"warnings,omitempty"`
	// Rollout is which workloads the apply rolls and why, and which read
	// changed configuration by a fixed name.
	Rollout *drift.Rollout `json:"rollout,omitempty"`
}

// Count returns how many steps have action a.
func (p *Plan) Count(a Action) int {
	n := 0
	for _, s := range p.Steps {
		if s.Action == a {
			n++
		}
	}
	return n
}

// Empty reports whether applying the plan would write nothing: every
// object unchanged, nothing to prune, and no killed apply to finish.
func (p *Plan) Empty() bool {
	return p.Count(ActionCreate)+p.Count(ActionChange)+p.Count(ActionPrune) == 0 && len(p.Leftover) == 0 && !p.retainChanged()
}

// retainChanged: the retained set differs from what Previous recorded.
func (p *Plan) retainChanged() bool {
	was := map[drift.ObjectID]bool{}
	if p.Previous != nil {
		for _, it := range p.Previous.Inventory {
			if it.Retained {
				was[it.ObjectID] = true
			}
		}
	}
	n := 0
	for _, s := range p.Steps {
		if s.Action == ActionRetain {
			if !was[s.ID] {
				return true
			}
			n++
		}
	}
	return n != len(was)
}

// PlanOptions tune a plan.
type PlanOptions struct {
	// PruneClusterScoped allows pruning Namespaces and CRDs.
	PruneClusterScoped bool
	// PruneData allows pruning PersistentVolumeClaims.
	PruneData bool
	// NoPrune keeps everything the render lost.
	NoPrune bool
	// KeepGenerations is how many recent releases' hashed ConfigMaps and
	// Secrets are kept even when nothing live uses them.
	KeepGenerations int
	// Ignore are the repository's drift ignore rules (fields managed
	// elsewhere do not make an object "changed").
	Ignore []drift.IgnoreRule
	// Deleting plans envctl delete: nothing desired, and old generations
	// go with the rest.
	Deleting bool
	// FieldManager is the apply's (Request.FieldManager): a field managed
	// elsewhere is still applied while this manager owns it.
	FieldManager string
}

// Target is the environment an apply deploys.
type Target struct {
	Environment string
	// Namespace is the environment's namespace: where namespaced objects
	// that set none go, and where its lock and releases live.
	Namespace string
}

// MakePlan compares the desired objects with the cluster and the release
// history, reading only: it makes no write call.
func MakePlan(ctx context.Context, c *live.Cluster, t Target, desired []*yaml.RNode, opts PlanOptions) (*Plan, error) {
	p := &Plan{Environment: t.Environment, Namespace: t.Namespace}
	store := &Store{Client: c.Dynamic(), Namespace: t.Namespace, Environment: t.Environment}
	hist, err := store.List(ctx)
	if err != nil {
		return nil, err
	}
	p.History = hist
	// Releases older than the newest deployed one, or than a delete, have
	// nothing left to prune.
	settled := false
	for _, r := range hist {
		if p.Revision == 0 {
			p.Revision = r.Revision + 1
		}
		switch {
		case settled:
		case r.Status == StatusDeployed:
			p.Previous, settled = r, true
		case r.Status == StatusDeleted:
			settled = true
		case r.Status == StatusPending, r.Status == StatusFailed:
			p.Leftover = append(p.Leftover, r)
		}
	}
	if p.Revision == 0 {
		p.Revision = 1
	}
	steps, err := resolve(ctx, c, t.Namespace, desired)
	if err != nil {
		return nil, err
	}

	// What was applied before and may have to go.
	wanted := map[drift.ObjectID]bool{}
	for _, s := range steps {
		wanted[keyOf(s.ID)] = true
	}
	var candidates []drift.ObjectID
	seen := map[drift.ObjectID]bool{}
	for _, r := range append([]*Release{p.Previous}, p.Leftover...) {
		if r == nil {
			continue
		}
		for _, it := range r.Inventory {
			k := keyOf(it.ObjectID)
			if !wanted[k] && !seen[k] {
				seen[k] = true
				candidates = append(candidates, it.ObjectID)
			}
		}
	}

	q := queryFor(steps, candidates, t.Namespace)
	res, err := c.Read(ctx, q.Query)
	if err != nil {
		return nil, err
	}
	// The workloads read only to find who uses old ConfigMap generations
	// may be unreadable; then every old generation is kept.
	unsure := ""
	for _, pr := range res.Problems {
		if pr.Reason != "forbidden" {
			continue
		}
		if !q.needed[pr.Kind] {
			unsure = fmt.Sprintf("kept: the user may not list %ss to tell whether it is used", pr.Kind.Kind)
			continue
		}
		return nil, fmt.Errorf("cannot plan %s: %s", t.Environment, pr)
	}
	liveByKey := map[drift.ObjectID]*yaml.RNode{}
	for _, o := range res.Objects {
		liveByKey[keyOf(idOf(o))] = o
	}

	var desiredObjs, liveObjs []*yaml.RNode
	for _, s := range steps {
		desiredObjs = append(desiredObjs, s.Object)
		if l := liveByKey[keyOf(s.ID)]; l != nil {
			liveObjs = append(liveObjs, l)
		}
	}
	// The drift engine says which declared fields differ and which
	// workloads a new ConfigMap generation rolls; hashed generations are
	// matched by base name there, so the live old generations go in too.
	for _, o := range res.Objects {
		if _, ok := drift.HashedBase(o.GetName()); ok && !wanted[keyOf(idOf(o))] {
			liveObjs = append(liveObjs, o)
		}
	}
	rep, err := drift.Compare(desiredObjs, liveObjs, drift.Options{Environment: t.Environment, DefaultNamespace: t.Namespace, Ignore: opts.Ignore})
	if err != nil {
		return nil, err
	}
	p.Rollout = rep.Rollout
	results := map[drift.ObjectID]*drift.ObjectResult{}
	for i := range rep.Objects {
		results[keyOf(rep.Objects[i].ID)] = &rep.Objects[i]
	}
	before := map[drift.ObjectID]string{}
	if p.Previous != nil {
		objs, err := manifest.Parse(p.Previous.Render)
		if err == nil {
			for _, o := range objs {
				before[keyOf(idOf(o))] = canonical(o)
			}
		}
	}
	for i := range steps {
		s := &steps[i]
		r := results[keyOf(s.ID)]
		s.live = liveByKey[keyOf(s.ID)]
		if s.live != nil {
			s.uid, s.resourceVersion = types.UID(uidOf(s.live)), rvOf(s.live)
		}
		switch {
		case liveByKey[keyOf(s.ID)] == nil:
			s.Action = ActionCreate
		case r != nil && r.Status == drift.StatusChanged:
			s.Action = ActionChange
			s.Changes = r.Changes
			s.Why = fieldsDiffer(len(r.Changes))
		default:
			prev, ok := before[s.rawKey]
			switch {
			case !ok:
				s.Action, s.Why = ActionChange, "not yet applied by envctl"
			case prev != s.raw:
				s.Action, s.Why = ActionChange, "fields left the repository"
			default:
				s.Action = ActionUnchanged
			}
		}
		if r != nil {
			s.Rolls = r.Rolls
		}
	}
	p.Steps = steps
	if err := leaveManagedFields(p.Steps, opts.Ignore, opts.FieldManager); err != nil {
		return nil, err
	}

	if !opts.NoPrune {
		current := map[string]bool{}
		for _, st := range steps {
			if base, ok := drift.HashedBase(st.ID.Name); ok && st.ID.Group == "" {
				current[st.ID.Kind+"/"+st.ID.Namespace+"/"+base] = true
			}
		}
		used := usedGenerations(res.Objects, hist, opts.KeepGenerations, current)
		for _, id := range candidates {
			l := liveByKey[keyOf(id)]
			if l == nil {
				continue // already gone
			}
			s := Step{ID: idOf(l), Action: ActionPrune, uid: types.UID(uidOf(l)), resourceVersion: rvOf(l)}
			switch {
			case id.Group == "" && id.Kind == "Namespace" && !opts.PruneClusterScoped,
				id.Group == "apiextensions.k8s.io" && id.Kind == "CustomResourceDefinition" && !opts.PruneClusterScoped:
				s.Action, s.Why = ActionKeep, "pruned only with --prune-cluster-scoped"
			case id.Group == "" && id.Kind == "PersistentVolumeClaim" && !opts.PruneData:
				s.Action, s.Why = ActionKeep, "pruned only with --prune-data"
			default:
				if opts.Deleting {
					break
				}
				if why := used[id.Kind+"/"+id.Namespace+"/"+id.Name]; why != "" {
					s.Action, s.Why = ActionRetain, why
				} else if _, hashed := drift.HashedBase(id.Name); hashed && unsure != "" && id.Group == "" {
					s.Action, s.Why = ActionRetain, unsure
				}
			}
			p.Steps = append(p.Steps, s)
		}
	}
	return p, nil
}

// leaveManagedFields removes, from the objects a change step applies, the
// fields that are managed elsewhere: spec.replicas of a workload a
// rendered HorizontalPodAutoscaler scales, and the fields of the
// repository's ignore rules (those whose pointer names map keys; a
// pointer through a list item is applied as rendered). Applying them
// would conflict with their manager, or with --force-conflicts take them
// back (Flux strips its drift-ignore fields the same way). A create keeps
// them: they are the initial values.
func leaveManagedFields(steps []Step, ignore []drift.IgnoreRule, manager string) error {
	scaled := map[string]bool{} // namespace/Kind/name
	for _, s := range steps {
		if s.ID.Kind != "HorizontalPodAutoscaler" || s.ID.Group != "autoscaling" {
			continue
		}
		kind, _ := s.Object.GetString("spec.scaleTargetRef.kind")
		name, _ := s.Object.GetString("spec.scaleTargetRef.name")
		scaled[s.ID.Namespace+"/"+kind+"/"+name] = true
	}
	for i := range steps {
		s := &steps[i]
		if s.Action != ActionChange {
			continue
		}
		var paths [][]string
		if scaled[s.ID.Namespace+"/"+s.ID.Kind+"/"+s.ID.Name] {
			paths = append(paths, []string{"spec", "replicas"})
		}
		for _, r := range ignore {
			if p := mapPointer(r); p != nil && ruleSelects(r, s.ID) {
				paths = append(paths, p)
			}
		}
		for _, p := range paths {
			if owns(s.live, manager, p) {
				// Still ours: leaving it out would make the server
				// remove it (and replicas fall back to 1).
				continue
			}
			parent, err := s.Object.Pipe(yaml.Lookup(p[:len(p)-1]...))
			if err != nil {
				return err
			}
			if parent != nil {
				if _, err := parent.Pipe(yaml.Clear(p[len(p)-1])); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// owns reports whether manager's server-side apply entry in the live
// object's managedFields holds the field at path.
func owns(live *yaml.RNode, manager string, path []string) bool {
	if live == nil {
		return false
	}
	mf, err := live.Pipe(yaml.Lookup("metadata", "managedFields"))
	if err != nil || mf == nil {
		return false
	}
	items, _ := mf.Elements()
	for _, e := range items {
		m, _ := e.GetString("manager")
		op, _ := e.GetString("operation")
		sub, _ := e.GetString("subresource")
		if m != manager || op != "Apply" || sub != "" {
			continue
		}
		keys := []string{"fieldsV1"}
		for _, k := range path {
			keys = append(keys, "f:"+k)
		}
		if n, err := e.Pipe(yaml.Lookup(keys...)); err == nil && n != nil {
			return true
		}
	}
	return false
}

// mapPointer splits an ignore rule's JSON pointer into map keys, or
// returns nil when it is empty or goes through a list item.
func mapPointer(r drift.IgnoreRule) []string {
	if r.Pointer == "" || !strings.HasPrefix(r.Pointer, "/") {
		return nil
	}
	var out []string
	for _, t := range strings.Split(r.Pointer[1:], "/") {
		t = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
		if t == "" || t == "*" || strings.Contains(t, "=") || strings.Trim(t, "0123456789") == "" {
			return nil
		}
		out = append(out, t)
	}
	return out
}

// ruleSelects is an ignore rule's object selector, as drift reads it.
func ruleSelects(r drift.IgnoreRule, id drift.ObjectID) bool {
	if r.Kind != "" && r.Kind != id.Kind || r.Namespace != "" && r.Namespace != id.Namespace {
		return false
	}
	if r.APIVersion != "" {
		gv, _ := schema.ParseGroupVersion(r.APIVersion)
		if gv.Group != id.Group {
			return false
		}
	}
	if r.Name != "" {
		if ok, _ := path.Match(r.Name, id.Name); !ok {
			return false
		}
	}
	return true
}

// usedGenerations says, for each hashed ConfigMap or Secret
// ("Kind/namespace/name"), why it must stay: a live ReplicaSet,
// ControllerRevision or Job uses it, or one of the last keep deployed
// releases rendered it and current, the generators the new render still
// has ("Kind/namespace/base"), has a newer generation of it: one whose
// generator left the repository goes with the rest, unless in use. A nil
// current keeps every recent generation (gc, which renders nothing).
func usedGenerations(liveObjs []*yaml.RNode, hist []*Release, keep int, current map[string]bool) map[string]string {
	used := map[string]string{}
	for _, o := range liveObjs {
		id := idOf(o)
		// The objects that keep old pod templates: what a rollout undo or
		// a running Job goes back to. A Deployment's own template is the
		// one this apply is replacing.
		switch id.Group + "/" + id.Kind {
		case "apps/ReplicaSet", "apps/ControllerRevision", "batch/Job":
		default:
			continue
		}
		m, err := o.Map()
		if err != nil {
			continue
		}
		for _, ref := range drift.TemplateRefs(id.Group, id.Kind, m) {
			k, name, _ := strings.Cut(ref, "/")
			key := k + "/" + id.Namespace + "/" + name
			if used[key] == "" {
				used[key] = "used by " + id.Kind + " " + id.Name
			}
		}
	}
	n := 0
	for _, r := range hist {
		if n >= keep {
			break
		}
		if r.Status != StatusDeployed && r.Status != StatusSuperseded && r.Status != StatusRolledBack {
			continue
		}
		n++
		for _, it := range r.Inventory {
			if it.Retained {
				continue
			}
			if base, ok := drift.HashedBase(it.Name); ok && (current == nil || current[it.Kind+"/"+it.Namespace+"/"+base]) {
				key := it.Kind + "/" + it.Namespace + "/" + it.Name
				if used[key] == "" {
					used[key] = fmt.Sprintf("rendered by release %d", r.Revision)
				}
			}
		}
	}
	return used
}

// resolve gives every desired object its server-side identity: the
// resource it maps to and its namespace. A custom resource whose CRD is
// in the same render is namespaced as that CRD says.
func resolve(ctx context.Context, c *live.Cluster, ns string, desired []*yaml.RNode) ([]Step, error) {
	crdScope := map[schema.GroupKind]bool{} // namespaced?
	for _, o := range desired {
		if o.GetKind() == "CustomResourceDefinition" && strings.HasPrefix(o.GetApiVersion(), "apiextensions.k8s.io/") {
			g, _ := o.GetString("spec.group")
			k, _ := o.GetString("spec.names.kind")
			sc, _ := o.GetString("spec.scope")
			crdScope[schema.GroupKind{Group: g, Kind: k}] = sc != "Cluster"
		}
	}
	steps := make([]Step, 0, len(desired))
	for _, o := range desired {
		gv, err := schema.ParseGroupVersion(o.GetApiVersion())
		if err != nil {
			return nil, fmt.Errorf("%s %s: apiVersion %q: %w", o.GetKind(), o.GetName(), o.GetApiVersion(), err)
		}
		gvk := gv.WithKind(o.GetKind())
		s := Step{Object: o.Copy(), rawKey: keyOf(idOf(o)), raw: canonical(o)}
		m, err := c.Mapping(ctx, gvk)
		if err == nil && m.GroupVersionKind.Version != gvk.Version {
			// Discovery found the kind under another version of its group
			// (fine for reading); an apply must go to the object's own.
			err = &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
		}
		switch {
		case err == nil:
			s.Mapping = m
			s.Namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
		case meta.IsNoMatchError(err):
			namespaced, ok := crdScope[gvk.GroupKind()]
			if !ok {
				return nil, fmt.Errorf("%s %s: the API server does not serve %s, and no CustomResourceDefinition in the render defines it", gvk.Kind, o.GetName(), gvk.GroupVersion())
			}
			s.Namespaced = namespaced
		default:
			return nil, err
		}
		if s.Namespaced && s.Object.GetNamespace() == "" {
			if err := s.Object.SetNamespace(ns); err != nil {
				return nil, err
			}
		}
		if !s.Namespaced && s.Object.GetNamespace() != "" {
			if err := s.Object.SetNamespace(""); err != nil {
				return nil, err
			}
		}
		s.ID = idOf(s.Object)
		steps = append(steps, s)
	}
	return steps, nil
}

// queryFor lists what a plan must see: the kinds and namespaces of the
// desired objects and of the earlier inventories, and the workloads that
// may still use old ConfigMap generations.
// planQuery is a live.Query and which of its kinds the plan cannot do
// without.
type planQuery struct {
	live.Query
	needed map[schema.GroupVersionKind]bool
}

func queryFor(steps []Step, candidates []drift.ObjectID, ns string) planQuery {
	kinds := map[schema.GroupVersionKind]bool{}
	nss := map[string]bool{ns: true}
	for _, s := range steps {
		if s.Mapping == nil {
			continue // not served yet: nothing live to read
		}
		kinds[s.Mapping.GroupVersionKind] = true
		if s.ID.Namespace != "" {
			nss[s.ID.Namespace] = true
		}
	}
	for _, id := range candidates {
		kinds[schema.GroupVersionKind{Group: id.Group, Version: id.Version, Kind: id.Kind}] = true
		if id.Namespace != "" {
			nss[id.Namespace] = true
		}
	}
	needed := maps.Clone(kinds)
	for _, k := range []schema.GroupVersionKind{
		{Group: "apps", Version: "v1", Kind: "ReplicaSet"},
		{Group: "apps", Version: "v1", Kind: "ControllerRevision"},
		{Group: "batch", Version: "v1", Kind: "Job"},
	} {
		kinds[k] = true
	}
	q := planQuery{needed: needed}
	for k := range kinds {
		q.Kinds = append(q.Kinds, k)
	}
	slices.SortFunc(q.Kinds, func(a, b schema.GroupVersionKind) int { return strings.Compare(a.String(), b.String()) })
	for n := range nss {
		q.Namespaces = append(q.Namespaces, n)
	}
	slices.Sort(q.Namespaces)
	return q
}

func rvOf(o *yaml.RNode) string {
	v, _ := o.GetString("metadata.resourceVersion")
	return v
}

func uidOf(o *yaml.RNode) string {
	v, _ := o.GetString("metadata.uid")
	return v
}

func idOf(o *yaml.RNode) drift.ObjectID {
	gv, _ := schema.ParseGroupVersion(o.GetApiVersion())
	return drift.ObjectID{Group: gv.Group, Version: gv.Version, Kind: o.GetKind(), Namespace: o.GetNamespace(), Name: o.GetName()}
}

// canonical is an object's content for "has it changed since the last
// release": its YAML, which kyaml writes with sorted-as-rendered keys.
func canonical(o *yaml.RNode) string {
	s, err := o.String()
	if err != nil {
		return ""
	}
	return s
}

func fieldsDiffer(n int) string {
	if n == 1 {
		return "1 field differs"
	}
	return fmt.Sprintf("%d fields differ", n)
}

// keyOf is an object's identity: everything but the version
// (autoscaling/v2 and v2beta2 name the same HPA).
func keyOf(id drift.ObjectID) drift.ObjectID {
	id.Version = ""
	return id
}
