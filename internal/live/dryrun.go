package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
)

// DryRunVerbs are the RBAC verbs a server-side dry run needs on every
// kind it sends: a dry run is authorised as the write it simulates (a
// server-side apply is a patch, and a create when the object is new),
// so read-only access (get, list) is not enough.
var DryRunVerbs = []string{"get", "create", "patch"}

// DryRunField is one field the API server refused, in its words.
type DryRunField struct {
	// Field is the API server's field path ("spec.replicas"); "" for the
	// whole object.
	Field   string
	Message string
}

// DryRunResult is the API server's verdict on one object.
type DryRunResult struct {
	// Index is the object's position in the objects given to DryRun.
	Index int
	// Refused lists what the API server refused; empty when it accepted
	// the object.
	Refused []DryRunField
}

// ForbiddenError is a dry run the credentials may not make.
type ForbiddenError struct {
	Server string
	Err    error
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("the API server %s forbids the dry run (a server-side dry run needs the verbs %s on every kind it sends; read-only access is not enough): %v",
		e.Server, strings.Join(DryRunVerbs, ", "), e.Err)
}

func (e *ForbiddenError) Unwrap() error { return e.Err }

var unknownFieldRe = regexp.MustCompile(`unknown field "([^"]+)"`)

// DryRun sends every object to the API server as a server-side apply with
// dryRun=All and strict field validation, as `kubectl apply --server-side
// --dry-run=server` does: admission (webhooks, ValidatingAdmissionPolicies,
// quota, LimitRange) and the API server's validation run, and nothing is
// stored. Objects without a namespace go to namespace ns when their kind
// is namespaced. A kind the cluster does not serve, and any other refusal,
// is a DryRunField of that object; credentials that may not write are a
// *ForbiddenError, and the server's unavailability an error.
func (c *Cluster) DryRun(ctx context.Context, ns string, objs []*unstructured.Unstructured) ([]DryRunResult, error) {
	out := make([]DryRunResult, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, obj := range objs {
		out[i].Index = i
		g.Go(func() error {
			refused, err := c.dryRunOne(gctx, ns, obj)
			out[i].Refused = refused
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Cluster) dryRunOne(ctx context.Context, ns string, obj *unstructured.Unstructured) ([]DryRunField, error) {
	gvk := obj.GroupVersionKind()
	m, err := c.Mapping(ctx, gvk)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return []DryRunField{{Message: fmt.Sprintf("the cluster does not serve %s %s (a CustomResourceDefinition rendered beside it is not installed by a dry run)", obj.GetAPIVersion(), obj.GetKind())}}, nil
		}
		return nil, classify(c.Server, err)
	}
	ri := c.dyn.Resource(m.Resource)
	obj = obj.DeepCopy()
	var target = ri.Namespace("")
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(ns)
		}
		target = ri.Namespace(obj.GetNamespace())
	}
	data, err := json.Marshal(obj.Object)
	if err != nil {
		return nil, err
	}
	rctx, cancel := withTimeout(ctx, c.timeout)
	defer cancel()
	force := true
	_, err = target.Patch(rctx, obj.GetName(), types.ApplyPatchType, data, metav1.PatchOptions{
		DryRun: []string{metav1.DryRunAll}, FieldManager: "envctl", Force: &force, FieldValidation: "Strict",
	})
	if err == nil {
		return nil, nil
	}
	var se *apierrors.StatusError
	switch {
	case apierrors.IsForbidden(err) && !isAdmissionDenial(err):
		return nil, &ForbiddenError{Server: c.Server, Err: err}
	case apierrors.IsUnauthorized(err):
		return nil, classify(c.Server, err)
	case errors.As(err, &se):
		return refusal(se.ErrStatus), nil
	}
	return nil, classify(c.Server, err)
}

// isAdmissionDenial tells a policy's "forbidden" (a
// ValidatingAdmissionPolicy or webhook that denies the object, which
// answers 403 too) from RBAC's.
func isAdmissionDenial(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "ValidatingAdmissionPolicy") || strings.Contains(msg, "admission webhook") || strings.Contains(msg, "exceeded quota")
}

// refusal turns the API server's status into fields.
func refusal(st metav1.Status) []DryRunField {
	var out []DryRunField
	if st.Details != nil {
		for _, c := range st.Details.Causes {
			f := c.Field
			if f == "<nil>" || f == "[]" {
				f = ""
			}
			out = append(out, DryRunField{Field: f, Message: c.Message})
		}
	}
	if len(out) > 0 {
		return out
	}
	if m := unknownFieldRe.FindAllStringSubmatch(st.Message, -1); m != nil {
		for _, f := range m {
			out = append(out, DryRunField{Field: f[1], Message: "unknown field"})
		}
		return out
	}
	return []DryRunField{{Message: st.Message}}
}
