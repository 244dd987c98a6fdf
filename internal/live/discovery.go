package live

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// discovery maps kinds to resources by asking the API server about just the
// group/versions an environment renders (a handful of GETs, cached for the
// run). client-go's discovery and restmapper packages would do it too, but
// they link every typed API group into envctl, and their package
// initialisation alone adds 20 ms to every envctl command, including the
// ones that never talk to a cluster.
type discovery struct {
	host   string
	client *http.Client

	mu        sync.Mutex
	resources map[schema.GroupVersion]*gvResult
	groups    *gvResult // the /apis group list, for preferred versions
}

type gvResult struct {
	once sync.Once
	list *metav1.APIResourceList
	grps *metav1.APIGroupList
	err  error
}

func (d *discovery) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(d.host, "/")+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := d.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		// The API server's Status body, when there is one, becomes a
		// typed error (Forbidden, NotFound, Unauthorized).
		return apierrors.FromObject(statusFrom(resp.StatusCode, body, path))
	}
	return json.Unmarshal(body, into)
}

func statusFrom(code int, body []byte, path string) *metav1.Status {
	var st metav1.Status
	if json.Unmarshal(body, &st) == nil && st.Kind == "Status" {
		return &st
	}
	reason := metav1.StatusReasonUnknown
	switch code {
	case http.StatusNotFound:
		reason = metav1.StatusReasonNotFound
	case http.StatusForbidden:
		reason = metav1.StatusReasonForbidden
	case http.StatusUnauthorized:
		reason = metav1.StatusReasonUnauthorized
	}
	return &metav1.Status{Status: metav1.StatusFailure, Code: int32(code), Reason: reason,
		Message: fmt.Sprintf("GET %s: %d %s", path, code, strings.TrimSpace(string(body)))}
}

// version checks that the server answers, with the cheapest call there is.
func (d *discovery) version(ctx context.Context) error {
	var v map[string]any
	return d.get(ctx, "/version", &v)
}

func (d *discovery) resourceList(ctx context.Context, gv schema.GroupVersion) (*metav1.APIResourceList, error) {
	d.mu.Lock()
	r, ok := d.resources[gv]
	if !ok {
		r = &gvResult{}
		d.resources[gv] = r
	}
	d.mu.Unlock()
	r.once.Do(func() {
		path := "/apis/" + gv.String()
		if gv.Group == "" {
			path = "/api/" + gv.Version
		}
		r.list = &metav1.APIResourceList{}
		r.err = d.get(ctx, path, r.list)
	})
	return r.list, r.err
}

func (d *discovery) groupList(ctx context.Context) (*metav1.APIGroupList, error) {
	d.mu.Lock()
	if d.groups == nil {
		d.groups = &gvResult{}
	}
	g := d.groups
	d.mu.Unlock()
	g.once.Do(func() {
		g.grps = &metav1.APIGroupList{}
		g.err = d.get(ctx, "/apis", g.grps)
	})
	return g.grps, g.err
}

// mapping finds the resource for gvk: in its own group/version, else in
// the group's preferred version (an old apiVersion in the repository for a
// kind the server still serves under a newer one).
func (d *discovery) mapping(ctx context.Context, gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	m, err := d.mappingIn(ctx, gvk.GroupVersion(), gvk.Kind)
	if err == nil || !apierrors.IsNotFound(err) && !meta.IsNoMatchError(err) {
		return m, err
	}
	if gvk.Group == "" {
		return nil, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
	}
	groups, gerr := d.groupList(ctx)
	if gerr != nil {
		return nil, gerr
	}
	for _, g := range groups.Groups {
		if g.Name != gvk.Group {
			continue
		}
		for _, v := range append([]metav1.GroupVersionForDiscovery{g.PreferredVersion}, g.Versions...) {
			if v.Version == gvk.Version || v.Version == "" {
				continue
			}
			if m, err := d.mappingIn(ctx, schema.GroupVersion{Group: gvk.Group, Version: v.Version}, gvk.Kind); err == nil {
				return m, nil
			}
		}
	}
	return nil, &meta.NoKindMatchError{GroupKind: gvk.GroupKind(), SearchedVersions: []string{gvk.Version}}
}

func (d *discovery) mappingIn(ctx context.Context, gv schema.GroupVersion, kind string) (*meta.RESTMapping, error) {
	list, err := d.resourceList(ctx, gv)
	if err != nil {
		return nil, err
	}
	for _, r := range list.APIResources {
		if r.Kind != kind || strings.Contains(r.Name, "/") {
			continue // subresources (deployments/scale) share the kind
		}
		scope := meta.RESTScopeRoot
		if r.Namespaced {
			scope = meta.RESTScopeNamespace
		}
		return &meta.RESTMapping{
			Resource:         gv.WithResource(r.Name),
			GroupVersionKind: gv.WithKind(kind),
			Scope:            scope,
		}, nil
	}
	return nil, &meta.NoKindMatchError{GroupKind: schema.GroupKind{Group: gv.Group, Kind: kind}, SearchedVersions: []string{gv.Version}}
}
