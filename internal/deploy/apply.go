package deploy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
)

// ConflictError is a field another manager owns, which a server-side
// apply without --force-conflicts may not take.
type ConflictError struct {
	ID        drift.ObjectID
	Conflicts []FieldOwner
}

// FieldOwner is a field and the manager that owns it.
type FieldOwner struct {
	Field   string
	Manager string
	// Subresource is where the manager wrote it ("scale" for kubectl
	// scale), if not the object itself.
	Subresource string
}

func (e *ConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: ", e.ID)
	for i, c := range e.Conflicts {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "field %s is owned by %s", c.Field, c.Manager)
		if c.Subresource != "" {
			fmt.Fprintf(&b, " (via the %s subresource)", c.Subresource)
		}
	}
	b.WriteString(" (conflict; --force-conflicts takes ownership)")
	return b.String()
}

// ImmutableError is a change to a field the API server does not allow to
// change once set.
type ImmutableError struct {
	ID     drift.ObjectID
	Fields []string
	// DataOwner is set when --recreate would not help: the object owns
	// data (a PVC, a StatefulSet with volumeClaimTemplates).
	DataOwner bool
	Err       error
}

func (e *ImmutableError) Error() string {
	hint := "--recreate deletes and re-creates it"
	if e.DataOwner {
		hint = "it owns data, so envctl never re-creates it: migrate it by hand"
	}
	return fmt.Sprintf("%s: field %s is immutable (%s)", e.ID, strings.Join(e.Fields, ", "), hint)
}

func (e *ImmutableError) Unwrap() error { return e.Err }

// applier writes a plan's objects with server-side apply.
type applier struct {
	cluster  *live.Cluster
	dyn      dynamic.Interface
	manager  string
	force    bool
	recreate bool
	dryRun   bool
	jobs     int
	timeout  time.Duration
	progress func(string)
}

// stage is the order objects are applied in: what others depend on
// first. Custom resources of a CRD applied in the same run come last,
// after their CRD is established.
func stage(s *Step) int {
	switch {
	case s.ID.Group == "" && s.ID.Kind == "Namespace",
		s.ID.Group == "apiextensions.k8s.io" && s.ID.Kind == "CustomResourceDefinition":
		return 0
	case !s.Namespaced:
		return 1
	default:
		return 2
	}
}

// applyAll applies the create and change steps, stage by stage; within a
// stage, jobs at a time. It returns every error of the stage that failed
// (all conflicts at once, not the first).
func (a *applier) applyAll(ctx context.Context, steps []*Step) error {
	var byStage [3][]*Step
	for _, s := range steps {
		if s.Action == ActionCreate || s.Action == ActionChange {
			byStage[stage(s)] = append(byStage[stage(s)], s)
		}
	}
	for i, ss := range byStage {
		if i > 0 {
			// Custom resources of CRDs this run created are mapped now.
			if err := a.mapLate(ctx, ss); err != nil {
				return err
			}
		}
		if err := a.each(ctx, ss, a.applyOne); err != nil {
			return err
		}
		if i == 0 && !a.dryRun {
			if err := a.waitEstablished(ctx, ss); err != nil {
				return err
			}
		}
	}
	return nil
}

// each runs f on every step, jobs at a time, and joins the errors in the
// steps' order.
func (a *applier) each(ctx context.Context, steps []*Step, f func(context.Context, *Step) error) error {
	errs := make([]error, len(steps))
	sem := make(chan struct{}, max(a.jobs, 1))
	var wg sync.WaitGroup
	for i, s := range steps {
		if ctx.Err() != nil {
			errs[i] = ctx.Err()
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			errs[i] = f(ctx, s)
		}()
	}
	wg.Wait()
	// An outage fails every request in flight: say it once.
	for _, err := range errs {
		var ue *live.UnreachableError
		if errors.As(err, &ue) {
			return err
		}
	}
	return errors.Join(errs...)
}

func (a *applier) mapLate(ctx context.Context, steps []*Step) error {
	for _, s := range steps {
		if s.Mapping != nil {
			continue
		}
		gvk := schema.GroupVersionKind{Group: s.ID.Group, Version: s.ID.Version, Kind: s.ID.Kind}
		m, err := a.cluster.Mapping(ctx, gvk)
		if err != nil {
			return fmt.Errorf("%s: %w", s.ID, err)
		}
		s.Mapping = m
	}
	return nil
}

func (a *applier) resource(s *Step) dynamic.ResourceInterface {
	r := a.dyn.Resource(s.Mapping.Resource)
	if s.Namespaced {
		return r.Namespace(s.ID.Namespace)
	}
	return r
}

func (a *applier) applyOne(ctx context.Context, s *Step) error {
	_, err := a.applyObject(ctx, s)
	return err
}

// applyObject applies one object and returns what the server made of it
// (with a dry run, what it would have made).
func (a *applier) applyObject(ctx context.Context, s *Step) (*unstructured.Unstructured, error) {
	m, err := s.Object.Map()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.ID, err)
	}
	u := &unstructured.Unstructured{Object: m}
	opts := metav1.ApplyOptions{FieldManager: a.manager, Force: a.force}
	if a.dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	ctx = withObject(ctx, s.ID)
	got, err := a.resource(s).Apply(ctx, s.ID.Name, u, opts)
	if err == nil {
		a.report("%s %s", verb(s.Action, a.dryRun), s.ID)
		return got, nil
	}
	if fields := immutableFields(err); len(fields) > 0 {
		ie := &ImmutableError{ID: s.ID, Fields: fields, DataOwner: ownsData(s), Err: err}
		if !a.recreate || ie.DataOwner {
			return nil, ie
		}
		if a.dryRun {
			a.report("would re-create %s (immutable %s)", s.ID, strings.Join(fields, ", "))
			return nil, nil
		}
		if err := a.recreateOne(ctx, s, u, opts); err != nil {
			return nil, fmt.Errorf("%s: re-creating it for its immutable %s: %w", s.ID, strings.Join(fields, ", "), err)
		}
		a.report("re-created %s (immutable %s)", s.ID, strings.Join(fields, ", "))
		return nil, nil
	}
	return nil, explain(a.cluster.Server, s.ID, err)
}

// recreateOne deletes the object, waits until it is gone (finalizers) and
// applies it again.
func (a *applier) recreateOne(ctx context.Context, s *Step, u *unstructured.Unstructured, opts metav1.ApplyOptions) error {
	ri := a.resource(s)
	// Background, as Flux does: the object goes at once and the garbage
	// collector removes its dependents (a Job's pods) after.
	bg := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, s.ID.Name, metav1.DeleteOptions{PropagationPolicy: &bg}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	deadline := time.Now().Add(a.timeout)
	for {
		_, err := ri.Get(ctx, s.ID.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			break
		}
		if err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still there after %s", a.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	_, err := ri.Apply(ctx, s.ID.Name, u, opts)
	return err
}

func (a *applier) report(format string, args ...any) {
	if a.progress != nil {
		a.progress(fmt.Sprintf(format, args...))
	}
}

func verb(act Action, dry bool) string {
	v := map[Action]string{ActionCreate: "created", ActionChange: "configured"}[act]
	if dry {
		v += " (server dry run)"
	}
	return v
}

// ownsData: objects whose deletion loses data are never re-created.
func ownsData(s *Step) bool {
	switch {
	case s.ID.Group == "" && s.ID.Kind == "PersistentVolumeClaim":
		return true
	case s.ID.Group == "apps" && s.ID.Kind == "StatefulSet":
		claims, _ := s.Object.Pipe(yaml.Lookup("spec", "volumeClaimTemplates"))
		return claims != nil && len(claims.Content()) > 0
	}
	return false
}

// immutableFields reads the fields an Invalid error calls immutable.
func immutableFields(err error) []string {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || !apierrors.IsInvalid(err) {
		return nil
	}
	var out []string
	if d := se.Status().Details; d != nil {
		for _, c := range d.Causes {
			if strings.Contains(c.Message, "immutable") || strings.Contains(c.Message, "Forbidden: updates to") {
				out = append(out, c.Field)
			}
		}
	}
	if len(out) == 0 && strings.Contains(err.Error(), "immutable") {
		out = append(out, "(see the server's message)")
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// explain turns an API error into one that names the object and, for a
// conflict, each field and its manager.
func explain(server string, id drift.ObjectID, err error) error {
	var se apierrors.APIStatus
	switch {
	case apierrors.IsConflict(err) && errors.As(err, &se) && se.Status().Details != nil:
		ce := &ConflictError{ID: id}
		for _, c := range se.Status().Details.Causes {
			if c.Type != metav1.CauseTypeFieldManagerConflict {
				continue
			}
			// The server says: conflict with "kubectl" with subresource
			// "scale" using apps/v1.
			q := quoted(c.Message)
			fo := FieldOwner{Field: c.Field, Manager: c.Message}
			if len(q) > 0 {
				fo.Manager = q[0]
			}
			if len(q) > 1 && strings.Contains(c.Message, "subresource") {
				fo.Subresource = q[1]
			}
			ce.Conflicts = append(ce.Conflicts, fo)
		}
		if len(ce.Conflicts) > 0 {
			return ce
		}
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: %w", id, err)
	case apierrors.IsNotFound(err) && id.Namespace != "":
		return fmt.Errorf("%s: namespace %s does not exist (and the render does not create it): %w", id, id.Namespace, err)
	case meta.IsNoMatchError(err):
		return fmt.Errorf("%s: the API server does not serve this kind: %w", id, err)
	case unreachable(err):
		return &live.UnreachableError{Server: server, Err: fmt.Errorf("applying %s: %w", id, err)}
	}
	return fmt.Errorf("%s: %w", id, err)
}

// unreachable: the request never got an answer (connection refused or
// reset, EOF, timeout), as opposed to an answer that says no.
func unreachable(err error) bool {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return false
	}
	var ue *url.Error
	var ne net.Error
	return errors.As(err, &ue) || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, context.DeadlineExceeded)
}

// quoted returns the double-quoted strings in s, in order.
func quoted(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i+1:], '"')
		if j < 0 {
			return out
		}
		out = append(out, s[i+1:i+1+j])
		s = s[i+j+2:]
	}
}

// waitEstablished waits until the CRDs among steps are established, so
// that their custom resources can be applied.
func (a *applier) waitEstablished(ctx context.Context, steps []*Step) error {
	var crds []*Step
	for _, s := range steps {
		if s.ID.Kind == "CustomResourceDefinition" {
			crds = append(crds, s)
		}
	}
	if len(crds) == 0 {
		return nil
	}
	deadline := time.Now().Add(a.timeout)
	for _, s := range crds {
		for {
			u, err := a.resource(s).Get(ctx, s.ID.Name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("%s: %w", s.ID, err)
			}
			if condition(u, "Established") == "True" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: not established after %s", s.ID, a.timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	// Discovery was asked about these groups before they were served.
	a.cluster.ForgetDiscovery()
	return nil
}

func condition(u *unstructured.Unstructured, typ string) string {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		m, _ := c.(map[string]any)
		if m["type"] == typ {
			s, _ := m["status"].(string)
			return s
		}
	}
	return ""
}

// pruneAll deletes the prune steps: namespaced objects first, then
// cluster-scoped ones, so that a Namespace goes after what it holds.
func (a *applier) pruneAll(ctx context.Context, steps []*Step) error {
	var byStage [3][]*Step
	for _, s := range steps {
		if s.Action == ActionPrune {
			byStage[stage(s)] = append(byStage[stage(s)], s)
		}
	}
	for i := len(byStage) - 1; i >= 0; i-- {
		if err := a.each(ctx, byStage[i], a.deleteOne); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) deleteOne(ctx context.Context, s *Step) error {
	if s.Mapping == nil {
		m, err := a.cluster.Mapping(ctx, schema.GroupVersionKind{Group: s.ID.Group, Version: s.ID.Version, Kind: s.ID.Kind})
		if err != nil {
			return fmt.Errorf("pruning %s: %w", s.ID, err)
		}
		s.Mapping = m
		s.Namespaced = m.Scope.Name() == meta.RESTScopeNameNamespace
	}
	bg := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &bg}
	if s.uid != "" {
		// Only the object the plan saw: one re-created since by someone
		// else is not ours to delete.
		uid := s.uid
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	if a.dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	err := a.resource(s).Delete(ctx, s.ID.Name, opts)
	switch {
	case err == nil:
		a.report("pruned %s", s.ID)
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		return nil
	}
	return fmt.Errorf("pruning %s: %w", s.ID, err)
}
