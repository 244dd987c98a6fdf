package deploy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/live"
	"github.com/envctl/envctl/internal/manifest"
)

// Request is one apply of one environment.
type Request struct {
	Target
	// Objects are the rendered objects; Render the same as YAML, kept in
	// the release exactly as applied.
	Objects []*yaml.RNode
	Render  []byte
	Plan    PlanOptions

	// FieldManager is the server-side apply field manager ("envctl").
	FieldManager string
	// ForceConflicts takes fields other managers own.
	ForceConflicts bool
	// Recreate deletes and re-creates objects whose immutable fields
	// change (never PVCs or StatefulSets with claims).
	Recreate bool
	// Wait for what changed to be ready, at most Timeout.
	Wait    bool
	Timeout time.Duration
	// HistoryMax is how many releases are kept.
	HistoryMax int
	// Jobs bounds concurrent writes.
	Jobs int
	// Meta describes the release: who, from which commit, why.
	Meta Meta
	// Confirm is asked, with the plan, before the first write; false
	// stops the apply without writing. nil means yes.
	Confirm func(*Plan) (bool, error)
	// Progress receives a line per object written and per workload ready.
	Progress func(string)
	// LockTTL is the lock's lifetime without renewal; 0 is LockTTL.
	LockTTL time.Duration
	// Replaced is the status the release this one replaces gets:
	// superseded (the default), or rolled-back for a rollback.
	Replaced Status
	// Atomic rolls back to the previous release when what changed is not
	// ready in time.
	Atomic bool
	// Verify, when set, is given the plan made under the lock (or the
	// first plan, when it has nothing to do); an error stops the apply
	// before its first write. apply --plan checks the reviewed plan here.
	Verify func(*Plan) error
}

// Meta is what a release records about where it came from.
type Meta struct {
	User        string
	Commit      string
	Dirty       bool
	Version     string
	Description string
	PlanID      string
	Planner     string
	Signers     []string
}

// Result is what an apply did.
type Result struct {
	Plan *Plan
	// Release is the recorded release; nil when nothing was written
	// (nothing to do, or not confirmed).
	Release *Release
	// Declined is set when Confirm said no.
	Declined bool
	// TookOverLock names the holder of a stale lock that was taken over.
	TookOverLock *LockedError
	// Warnings are what the API server warned about the objects applied.
	Warnings []Warning
	// RolledBack is the release an atomic apply rolled back with.
	RolledBack *Release
}

// Apply deploys an environment: plan (reading only); when there is
// anything to do, lock, plan again under the lock, confirm, record a
// pending release, apply, wait, prune, and record the outcome. A plan
// with nothing to do writes nothing, not even the lock.
//
// With Atomic, a release whose objects are not ready in time is rolled
// back: the previous release's render is applied again, as envctl
// rollback would (Result.RolledBack is that release), and the
// *NotReadyError is still returned.
func Apply(ctx context.Context, c *live.Cluster, req Request) (*Result, error) {
	res, err := apply(ctx, c, req)
	var nr *NotReadyError
	if !req.Atomic || !errors.As(err, &nr) || res == nil || res.Plan.Previous == nil {
		return res, err
	}
	prev := res.Plan.Previous
	rb, rerr := RollbackRequest(req, prev, "rollback to %d (--atomic)")
	if rerr != nil {
		return res, errors.Join(err, rerr)
	}
	// What was deployed before is release prev itself: superseded by its
	// own copy. The release that failed stays failed.
	rb.Atomic, rb.Replaced = false, StatusSuperseded
	if req.Progress != nil {
		req.Progress(fmt.Sprintf("release %d not ready in time: rolling back to release %d", res.Plan.Revision, prev.Revision))
	}
	rres, rerr := apply(ctx, c, rb)
	if rres != nil {
		res.RolledBack = rres.Release
		res.Warnings = append(res.Warnings, rres.Warnings...)
	}
	if rerr != nil {
		return res, fmt.Errorf("%w; the rollback to release %d failed too: %w", err, prev.Revision, rerr)
	}
	return res, err
}

// RollbackRequest turns a request into one that applies release to's
// stored render again, exactly as it was applied.
func RollbackRequest(req Request, to *Release, description string) (Request, error) {
	objs, err := manifest.Parse(to.Render)
	if err != nil {
		return req, fmt.Errorf("release %d: its stored render does not parse: %w", to.Revision, err)
	}
	req.Objects, req.Render = objs, to.Render
	req.Meta.Description = fmt.Sprintf(description, to.Revision)
	req.Meta.Commit, req.Meta.Dirty = to.Commit, to.Dirty
	req.Replaced = StatusRolledBack
	return req, nil
}

func apply(ctx context.Context, c *live.Cluster, req Request) (*Result, error) {
	req.defaults()
	plan, err := MakePlan(ctx, c, req.Target, req.Objects, req.Plan)
	if err != nil {
		return nil, err
	}
	res := &Result{Plan: plan}
	if plan.Empty() {
		if req.Verify != nil {
			return res, req.Verify(plan)
		}
		return res, nil
	}
	if req.Verify != nil {
		// Before the lock too: a plan that moved fails without a write.
		if err := req.Verify(plan); err != nil {
			return res, err
		}
	}
	if req.Meta.User == "" {
		// Asked only now: a plan with nothing to do makes no request
		// beyond its reads. Servers before 1.28 cannot say; the release
		// then records no user.
		req.Meta.User, _ = c.WhoAmI(ctx)
	}
	warns := &warnings{}
	defer func() { res.Warnings = warns.all() }()
	dyn, err := writer(c, warns)
	if err != nil {
		return nil, err
	}
	if err := preflight(ctx, dyn, plan, req.Meta.User, req.Jobs); err != nil {
		return nil, err
	}
	createdNS, err := ensureNamespace(ctx, c, dyn, req)
	if err != nil {
		return nil, err
	}
	lock, err := Acquire(ctx, dyn, req.Namespace, req.Environment, Holder(req.Meta.User), req.LockTTL)
	if err != nil {
		return nil, err
	}
	res.TookOverLock = lock.TookOver
	defer func() {
		// The apply's own context may be cancelled (SIGINT); the lock is
		// released regardless, or the next apply waits out its TTL.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		_ = lock.Release(rctx)
	}()
	// Another apply may have finished between the first plan and the lock.
	if plan, err = MakePlan(ctx, c, req.Target, req.Objects, req.Plan); err != nil {
		return nil, err
	}
	res.Plan = plan
	if createdNS {
		// Created just now, for the lock: still this apply's create.
		for i := range plan.Steps {
			if s := &plan.Steps[i]; s.ID.Group == "" && s.ID.Kind == "Namespace" && s.ID.Name == req.Namespace {
				s.Action, s.Why, s.Changes = ActionCreate, "", nil
			}
		}
	}
	if req.Verify != nil {
		if err := req.Verify(plan); err != nil {
			return res, err
		}
	}
	if plan.Empty() {
		return res, nil
	}
	if req.Confirm != nil {
		ok, err := req.Confirm(plan)
		if err != nil {
			return res, err
		}
		if !ok {
			res.Declined = true
			return res, nil
		}
	}
	rel, err := execute(ctx, c, dyn, req, plan)
	res.Release = rel
	return res, err
}

// DryRun plans, then sends every create and change to the API server as
// a server-side dry-run apply: validation, defaulting and admission
// (webhooks, policies, quota) run, nothing is stored, no lock is taken
// and no release recorded. A change that the server's answer shows to be
// a no-op is demoted to unchanged, so the plan shows exactly what an
// apply would change. Custom resources of a CRD the same apply creates
// cannot be sent before it exists; they stay planned as creates.
func DryRun(ctx context.Context, c *live.Cluster, req Request) (*Plan, error) {
	return dryRun(ctx, c, req, true)
}

// Check plans and sends every create and change as a server-side dry
// run, as DryRun does, but keeps the plan as apply will make it (no step
// demoted): for a plan file that apply compares with its own plan.
func Check(ctx context.Context, c *live.Cluster, req Request) (*Plan, error) {
	return dryRun(ctx, c, req, false)
}

func dryRun(ctx context.Context, c *live.Cluster, req Request, demote bool) (*Plan, error) {
	req.defaults()
	plan, err := MakePlan(ctx, c, req.Target, req.Objects, req.Plan)
	if err != nil {
		return nil, err
	}
	warns := &warnings{}
	dyn, err := writer(c, warns)
	if err != nil {
		return nil, err
	}
	defer func() { plan.Warnings = warns.all() }()
	a := &applier{cluster: c, dyn: dyn, manager: req.FieldManager, force: req.ForceConflicts, recreate: req.Recreate,
		dryRun: true, jobs: req.Jobs, timeout: req.Timeout, progress: req.Progress}
	var steps []*Step
	for i := range plan.Steps {
		s := &plan.Steps[i]
		if (s.Action == ActionCreate || s.Action == ActionChange) && s.Mapping != nil {
			steps = append(steps, s)
		}
	}
	err = a.each(ctx, steps, func(ctx context.Context, s *Step) error {
		got, err := a.applyObject(ctx, s)
		if err != nil || got == nil || s.Action != ActionChange || s.live == nil {
			return err
		}
		if demote && sameContent(got.Object, s.live) {
			s.Action, s.Why, s.Changes = ActionUnchanged, "", nil
		}
		return nil
	})
	return plan, err
}

// sameContent compares a dry-run result with the live object, leaving out
// what every write changes (resourceVersion, managedFields' timestamps).
func sameContent(got map[string]any, live *yaml.RNode) bool {
	lm, err := live.Map()
	if err != nil {
		return false
	}
	// Through JSON, so that both sides hold the same number types (YAML
	// decodes int, the API client int64).
	strip := func(m map[string]any) map[string]any {
		b, err := json.Marshal(m)
		if err != nil {
			return nil
		}
		var out map[string]any
		if json.Unmarshal(b, &out) != nil {
			return nil
		}
		md, _ := out["metadata"].(map[string]any)
		for _, k := range []string{"resourceVersion", "managedFields", "generation"} {
			delete(md, k)
		}
		return out
	}
	a, b := strip(got), strip(lm)
	return a != nil && apiequality.Semantic.DeepEqual(a, b)
}

func (r *Request) defaults() {
	if r.FieldManager == "" {
		r.FieldManager = "envctl"
	}
	if r.Jobs <= 0 {
		r.Jobs = 16
	}
	if r.Timeout <= 0 {
		r.Timeout = 5 * time.Minute
	}
	if r.HistoryMax <= 0 {
		r.HistoryMax = 10
	}
	if r.Plan.KeepGenerations <= 0 {
		r.Plan.KeepGenerations = 3
	}
	if r.Meta.Description == "" {
		r.Meta.Description = "apply"
		if r.Plan.Deleting {
			r.Meta.Description = "delete"
		}
	}
	if r.Replaced == "" {
		r.Replaced = StatusSuperseded
	}
	r.Plan.FieldManager = r.FieldManager
}

// writer is a client for the apply's writes. It has no client-side rate
// limit: a first apply of 500 objects at the read client's 100 requests a
// second would spend 5 s waiting on itself; the API server's priority and
// fairness is what protects the server.
func writer(c *live.Cluster, w *warnings) (dynamic.Interface, error) {
	cfg := c.RESTConfig()
	cfg.QPS = -1
	cfg.WarningHandlerWithContext = w
	return dynamic.NewForConfig(cfg)
}

var namespacesGVR = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}

// ensureNamespace creates the environment's namespace when the render
// declares it and it does not exist yet (and says so): the lock and the
// releases live there. A namespace the render does not declare must
// exist.
func ensureNamespace(ctx context.Context, c *live.Cluster, dyn dynamic.Interface, req Request) (bool, error) {
	_, err := dyn.Resource(namespacesGVR).Get(ctx, req.Namespace, metav1.GetOptions{})
	if err == nil || !apierrors.IsNotFound(err) {
		return false, err
	}
	for _, o := range req.Objects {
		if o.GetKind() == "Namespace" && o.GetApiVersion() == "v1" && o.GetName() == req.Namespace {
			a := &applier{cluster: c, dyn: dyn, manager: req.FieldManager, force: req.ForceConflicts, jobs: 1, timeout: req.Timeout, progress: req.Progress}
			m, err := c.Mapping(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
			if err != nil {
				return false, err
			}
			return true, a.applyOne(ctx, &Step{ID: idOf(o), Action: ActionCreate, Object: o, Mapping: m})
		}
	}
	return false, fmt.Errorf("namespace %s of environment %s does not exist, and the render does not create it: create it, or set the environment's namespace in envctl.yaml", req.Namespace, req.Environment)
}

// execute writes: pending release, objects, wait, prune, outcome.
func execute(ctx context.Context, c *live.Cluster, dyn dynamic.Interface, req Request, plan *Plan) (*Release, error) {
	store := &Store{Client: dyn, Namespace: req.Namespace, Environment: req.Environment}
	rel := &Release{
		Environment: req.Environment,
		Revision:    plan.Revision,
		Status:      StatusPending,
		Started:     time.Now().UTC().Truncate(time.Second),
		User:        req.Meta.User,
		Commit:      req.Meta.Commit,
		Dirty:       req.Meta.Dirty,
		Version:     req.Meta.Version,
		Description: req.Meta.Description,
		PlanID:      req.Meta.PlanID,
		Planner:     req.Meta.Planner,
		Signers:     req.Meta.Signers,
		Render:      req.Render,
	}
	// The inventory is recorded before the first object is written, so
	// that an apply killed half way leaves nothing a later one cannot
	// prune: everything it might have created, and everything earlier
	// releases had that this one might not have pruned yet.
	for _, s := range plan.Steps {
		switch s.Action {
		case ActionCreate, ActionChange, ActionUnchanged:
			rel.Inventory = append(rel.Inventory, Item{ObjectID: s.ID})
		case ActionPrune, ActionRetain:
			rel.Inventory = append(rel.Inventory, Item{ObjectID: s.ID, Retained: true})
		}
	}
	if err := store.Create(ctx, rel); err != nil {
		return nil, err
	}
	a := &applier{cluster: c, dyn: dyn, manager: req.FieldManager, force: req.ForceConflicts, recreate: req.Recreate,
		jobs: req.Jobs, timeout: req.Timeout, progress: req.Progress}
	steps := make([]*Step, len(plan.Steps))
	for i := range plan.Steps {
		steps[i] = &plan.Steps[i]
	}
	err := a.applyAll(ctx, steps)
	if err == nil && req.Wait {
		err = a.waitReady(ctx, steps, req.Timeout)
	}
	pruned := 0
	if err == nil {
		if err = a.pruneAll(ctx, steps); err == nil {
			pruned = plan.Count(ActionPrune)
		}
	}
	rel.Created, rel.Changed, rel.Unchanged, rel.Pruned = plan.Count(ActionCreate), plan.Count(ActionChange), plan.Count(ActionUnchanged), pruned
	rel.Finished = time.Now().UTC().Truncate(time.Second)
	if err == nil {
		// Pruned objects leave the inventory; retained ones stay for gc.
		rel.Inventory = rel.Inventory[:0]
		for _, s := range plan.Steps {
			switch s.Action {
			case ActionCreate, ActionChange, ActionUnchanged:
				rel.Inventory = append(rel.Inventory, Item{ObjectID: s.ID})
			case ActionRetain:
				rel.Inventory = append(rel.Inventory, Item{ObjectID: s.ID, Retained: true})
			}
		}
		rel.Status = StatusDeployed
		if req.Plan.Deleting {
			rel.Status = StatusDeleted
		}
	} else {
		rel.Status, rel.Error = StatusFailed, err.Error()
	}
	// The outcome is recorded even when the apply's context was cancelled.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if uerr := store.Update(wctx, rel); uerr != nil {
		return rel, errors.Join(err, uerr)
	}
	if err != nil {
		return rel, err
	}
	return rel, finishHistory(wctx, store, plan, req.Replaced, req.HistoryMax)
}

// finishHistory marks the releases the new one replaces and drops the
// oldest beyond max.
func finishHistory(ctx context.Context, store *Store, plan *Plan, replaced Status, maxKept int) error {
	var errs []error
	if p := plan.Previous; p != nil {
		errs = append(errs, store.SetStatus(ctx, p, replaced))
	}
	for _, r := range plan.Leftover {
		if r.Status == StatusPending {
			errs = append(errs, store.SetStatus(ctx, r, StatusFailed))
		}
	}
	// plan.History does not hold the new release: it keeps maxKept-1.
	for i, r := range plan.History {
		if i >= maxKept-1 {
			errs = append(errs, store.Delete(ctx, r))
		}
	}
	return errors.Join(errs...)
}
