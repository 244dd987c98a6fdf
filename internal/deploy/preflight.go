package deploy

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// Permission is one thing an apply must be allowed to do.
type Permission struct {
	Verb      string
	Group     string
	Resource  string
	Kind      string
	Namespace string
}

func (p Permission) String() string {
	gr := p.Resource
	if p.Group != "" {
		gr += "." + p.Group
	}
	where := "cluster-wide"
	if p.Namespace != "" {
		where = "in namespace " + p.Namespace
	}
	return fmt.Sprintf("%s %s (%s) %s", p.Verb, gr, p.Kind, where)
}

// PermissionError lists what the user may not do. Nothing was written.
type PermissionError struct {
	User    string
	Missing []Permission
}

func (e *PermissionError) Error() string {
	var lines []string
	for _, p := range e.Missing {
		lines = append(lines, "  "+p.String())
	}
	who := "the user"
	if e.User != "" {
		who = e.User
	}
	return fmt.Sprintf("%s may not do what this apply needs; nothing was written. Missing:\n%s", who, strings.Join(lines, "\n"))
}

var accessReviews = schema.GroupVersionResource{Group: "authorization.k8s.io", Version: "v1", Resource: "selfsubjectaccessreviews"}

// needs is every permission a plan's writes require: create and patch
// for the objects it applies (server-side apply creates with a patch),
// delete for the ones it prunes, and what the lock and the release need.
// Custom resources of a CRD the same apply creates are left out: their
// resource is not served yet.
func needs(plan *Plan) []Permission {
	set := map[Permission]bool{}
	add := func(p Permission) { set[p] = true }
	for _, s := range plan.Steps {
		if s.Mapping == nil {
			continue
		}
		p := Permission{Group: s.Mapping.Resource.Group, Resource: s.Mapping.Resource.Resource, Kind: s.ID.Kind, Namespace: s.ID.Namespace}
		switch s.Action {
		case ActionCreate:
			p.Verb = "create"
			add(p)
			p.Verb = "patch"
			add(p)
		case ActionChange:
			p.Verb = "patch"
			add(p)
		case ActionPrune:
			p.Verb = "delete"
			add(p)
		}
	}
	for _, v := range []string{"create", "update", "delete", "get"} {
		add(Permission{Verb: v, Group: "coordination.k8s.io", Resource: "leases", Kind: "Lease", Namespace: plan.Namespace})
	}
	for _, v := range []string{"create", "update", "list", "get", "delete"} {
		add(Permission{Verb: v, Resource: "secrets", Kind: "Secret", Namespace: plan.Namespace})
	}
	out := make([]Permission, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// preflight asks the API server, with one SelfSubjectAccessReview per
// permission, whether the user may do everything the plan needs, before
// the first write: a missing permission found half way through would
// leave the environment half applied.
func preflight(ctx context.Context, dyn dynamic.Interface, plan *Plan, user string, jobs int) error {
	perms := needs(plan)
	allowed := make([]bool, len(perms))
	errs := make([]error, len(perms))
	sem := make(chan struct{}, max(jobs, 1))
	var wg sync.WaitGroup
	for i, p := range perms {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			review := &unstructured.Unstructured{Object: map[string]any{
				"apiVersion": "authorization.k8s.io/v1",
				"kind":       "SelfSubjectAccessReview",
				"spec": map[string]any{"resourceAttributes": map[string]any{
					"verb": p.Verb, "group": p.Group, "resource": p.Resource, "namespace": p.Namespace,
				}},
			}}
			got, err := dyn.Resource(accessReviews).Create(ctx, review, metav1.CreateOptions{})
			if err != nil {
				errs[i] = fmt.Errorf("checking permission to %s: %w", p, err)
				return
			}
			allowed[i], _, _ = unstructured.NestedBool(got.Object, "status", "allowed")
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	pe := &PermissionError{User: user}
	for i, p := range perms {
		if !allowed[i] {
			pe.Missing = append(pe.Missing, p)
		}
	}
	if len(pe.Missing) > 0 {
		return pe
	}
	return nil
}
