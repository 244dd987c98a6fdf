package rbac

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/envctl/envctl/internal/live"
)

// Discovery returns an Options.Discover that asks each environment's
// cluster (its Context, through src) which resource serves a kind: API
// discovery of the kind's group/version only, read only.
func Discovery(ctx context.Context, src *live.Clusters) func(Environment, schema.GroupVersionKind) (Resource, bool, error) {
	return func(e Environment, gvk schema.GroupVersionKind) (Resource, bool, error) {
		c, err := src.Connect(ctx, e.Context)
		if err != nil {
			return Resource{}, false, err
		}
		m, err := c.Mapping(ctx, gvk)
		if err != nil {
			return Resource{}, false, fmt.Errorf("%s %s: no CustomResourceDefinition in the render or in envctl.yaml's crds: defines it, and the cluster %s does not serve it: %w", gvk.GroupVersion(), gvk.Kind, c.Server, err)
		}
		return Resource{Group: m.Resource.Group, Resource: m.Resource.Resource}, m.Scope.Name() == meta.RESTScopeNameNamespace, nil
	}
}
