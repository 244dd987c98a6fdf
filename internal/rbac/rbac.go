package rbac

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/k8sschema"
	"github.com/envctl/envctl/internal/live"
)

// verbs are the only verbs granted: what a LIST, and a GET of one object,
// need. No watch: diff reads once.
var verbs = []string{"get", "list"}

// ServiceAccount is the subject the bindings grant to.
type ServiceAccount struct {
	Namespace, Name string
}

func (s ServiceAccount) String() string { return s.Namespace + "/" + s.Name }

// ParseServiceAccount reads NAMESPACE/NAME.
func ParseServiceAccount(s string) (ServiceAccount, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || strings.Contains(name, "/") {
		return ServiceAccount{}, fmt.Errorf("service account %q: want NAMESPACE/NAME", s)
	}
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return ServiceAccount{}, fmt.Errorf("service account %q: namespace %q: %s", s, ns, strings.Join(errs, "; "))
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return ServiceAccount{}, fmt.Errorf("service account %q: name %q: %s", s, name, strings.Join(errs, "; "))
	}
	return ServiceAccount{Namespace: ns, Name: name}, nil
}

// Environment is one rendered environment.
type Environment struct {
	Name string
	// Namespace is where objects that set none go, and where diff reads
	// the release history.
	Namespace string
	// Context is the kube context of the environment's cluster, for
	// Options.Discover.
	Context string
	// KubeVersion is the environment's Kubernetes version from
	// envctl.yaml, whose API paths map its kinds first ("" is the newest).
	KubeVersion string
	// Objects are the rendered objects.
	Objects []*yaml.RNode
}

// Options are the inputs besides the environments.
type Options struct {
	ServiceAccount ServiceAccount
	// CRDs are the repository's CustomResourceDefinitions (envctl.yaml
	// crds:), for custom resources whose CRD the render does not hold.
	CRDs []*yaml.RNode
	// ReleaseHistory grants get and list on Secrets in each environment's
	// namespace even when the environment renders no Secret, so that diff
	// reads envctl apply's release history (its inventory finds orphans
	// whatever their labels). Without it, and without rendered Secrets,
	// diff finds orphans by the environment's selector labels.
	ReleaseHistory bool
	// Discover, if set, maps a kind that neither the Kubernetes API paths
	// nor a CRD of the render or repository know, by asking env's
	// cluster (API discovery); nil keeps For offline.
	Discover func(env Environment, gvk schema.GroupVersionKind) (r Resource, namespaced bool, err error)
}

// Resource is a group and resource, as RBAC rules name them.
type Resource struct {
	Group, Resource string
}

func (r Resource) String() string {
	return schema.GroupResource{Group: r.Group, Resource: r.Resource}.String()
}

// NamespaceGrant is what a Role grants in one namespace.
type NamespaceGrant struct {
	Namespace string
	Resources []Resource
	// Environments are the environments that read the namespace.
	Environments []string
}

// Grant is what diff needs to read the environments, and who gets it.
type Grant struct {
	Environments   []string
	ServiceAccount ServiceAccount
	// Namespaces are sorted by name, their resources by group and name.
	Namespaces []NamespaceGrant
	// Cluster are the cluster-scoped resources (a ClusterRole); none when
	// the environments render no cluster-scoped object.
	Cluster []Resource
	// ReleaseHistory says Secrets were granted for the release history.
	ReleaseHistory bool
}

// For works out the grant that lets diff read envs.
func For(envs []Environment, opts Options) (*Grant, error) {
	if opts.ServiceAccount.Name == "" || opts.ServiceAccount.Namespace == "" {
		return nil, fmt.Errorf("no service account to bind to")
	}
	g := &Grant{ServiceAccount: opts.ServiceAccount, ReleaseHistory: opts.ReleaseHistory}
	repoCRDs := crdIndex(opts.CRDs)
	nsRes := map[string]map[Resource]bool{}
	nsEnvs := map[string]map[string]bool{}
	cluster := map[Resource]bool{}
	for _, e := range envs {
		g.Environments = append(g.Environments, e.Name)
		if e.Namespace == "" {
			return nil, fmt.Errorf("%s: no namespace: set the environment's namespace in envctl.yaml, or pass -n (diff would read the kube context's)", e.Name)
		}
		m, err := newMapper(e.KubeVersion, crdIndex(e.Objects), repoCRDs)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		if opts.Discover != nil {
			m.discover = func(gvk schema.GroupVersionKind) (Resource, bool, error) { return opts.Discover(e, gvk) }
		}
		// The same query diff makes, so that the grant is what diff reads.
		q := live.QueryFor(e.Objects, e.Namespace, nil)
		var namespaced []Resource
		for _, gvk := range q.Kinds {
			r, isNamespaced, err := m.resource(gvk)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", e.Name, err)
			}
			if isNamespaced {
				namespaced = append(namespaced, r)
			} else {
				cluster[r] = true
			}
		}
		for _, ns := range q.Namespaces {
			if nsRes[ns] == nil {
				nsRes[ns], nsEnvs[ns] = map[Resource]bool{}, map[string]bool{}
			}
			nsEnvs[ns][e.Name] = true
			for _, r := range namespaced {
				nsRes[ns][r] = true
			}
		}
		if opts.ReleaseHistory {
			nsRes[e.Namespace][Resource{Resource: "secrets"}] = true
		}
	}
	for _, ns := range sortedKeys(nsRes) {
		if len(nsRes[ns]) == 0 {
			continue // the default namespace of an environment that renders only cluster-scoped kinds
		}
		g.Namespaces = append(g.Namespaces, NamespaceGrant{Namespace: ns, Resources: sortedResources(nsRes[ns]), Environments: sortedKeys(nsEnvs[ns])})
	}
	g.Cluster = sortedResources(cluster)
	slices.Sort(g.Environments)
	return g, nil
}

// crd is what a CustomResourceDefinition says about its kind.
type crd struct {
	plural     string
	namespaced bool
}

// crdIndex indexes the CustomResourceDefinitions among objs by group/kind.
func crdIndex(objs []*yaml.RNode) map[schema.GroupKind]crd {
	out := map[schema.GroupKind]crd{}
	for _, o := range objs {
		if o.GetKind() != "CustomResourceDefinition" || !strings.HasPrefix(o.GetApiVersion(), "apiextensions.k8s.io/") {
			continue
		}
		group, _ := o.GetString("spec.group")
		kind, _ := o.GetString("spec.names.kind")
		plural, _ := o.GetString("spec.names.plural")
		scope, _ := o.GetString("spec.scope")
		if group == "" || kind == "" || plural == "" {
			continue
		}
		out[schema.GroupKind{Group: group, Kind: kind}] = crd{plural: plural, namespaced: scope != "Cluster"}
	}
	return out
}

// mapper maps kinds to resources without a cluster.
type mapper struct {
	versions []string // the environment's version first, then newest to oldest
	rendered map[schema.GroupKind]crd
	repo     map[schema.GroupKind]crd
	discover func(schema.GroupVersionKind) (Resource, bool, error)
}

func newMapper(kubeVersion string, rendered, repo map[schema.GroupKind]crd) (*mapper, error) {
	m := &mapper{rendered: rendered, repo: repo}
	versions := slices.Clone(k8sschema.Versions())
	slices.SortFunc(versions, func(a, b string) int { return k8sschema.CompareVersions(b, a) })
	if kubeVersion != "" {
		minor, _, err := k8sschema.ParseVersion(kubeVersion)
		if err != nil {
			return nil, fmt.Errorf("kubeVersion: %w", err)
		}
		if i := slices.Index(versions, minor); i > 0 {
			versions = slices.Insert(slices.Delete(versions, i, i+1), 0, minor)
		}
		// A version envctl has no paths for is fine: the others name
		// every built-in resource they share with it.
	}
	m.versions = versions
	return m, nil
}

// sets yields the versions' API paths in order, each loaded (once per
// process) only when the earlier ones did not know a kind.
func (m *mapper) sets(yield func(*k8sschema.Set) bool) {
	for _, v := range m.versions {
		s, err := k8sschema.Load(v, false)
		if err != nil {
			continue // embedded: cannot fail for a version Versions lists
		}
		if !yield(s) {
			return
		}
	}
}

// resource maps gvk to its resource: a CRD of the render or the
// repository wins for its group/kind; otherwise the Kubernetes API paths,
// of this apiVersion in any version envctl knows, else of another
// apiVersion of the group (an old apiVersion a newer server serves under
// another; RBAC rules do not name versions).
func (m *mapper) resource(gvk schema.GroupVersionKind) (Resource, bool, error) {
	gk := gvk.GroupKind()
	for _, idx := range []map[schema.GroupKind]crd{m.rendered, m.repo} {
		if c, ok := idx[gk]; ok {
			return Resource{Group: gk.Group, Resource: c.plural}, c.namespaced, nil
		}
	}
	av := gvk.GroupVersion().String()
	for s := range m.sets {
		if r, ns, ok := s.Resource(av, gvk.Kind); ok {
			return Resource{Group: gk.Group, Resource: r}, ns, nil
		}
	}
	for s := range m.sets {
		for _, k := range s.Kinds() {
			if k.Kind != gvk.Kind || k.Resource == "" || !k.NamespacedKnown {
				continue
			}
			if gv, err := schema.ParseGroupVersion(k.APIVersion); err == nil && gv.Group == gk.Group {
				return Resource{Group: gk.Group, Resource: k.Resource}, k.Namespaced, nil
			}
		}
	}
	if m.discover != nil {
		return m.discover(gvk)
	}
	vs := k8sschema.Versions()
	return Resource{}, false, &UnknownKindError{APIVersion: av, Kind: gvk.Kind, Versions: vs[0] + " to " + vs[len(vs)-1]}
}

// UnknownKindError is a kind that no Kubernetes version envctl knows
// serves and no CustomResourceDefinition defines.
type UnknownKindError struct {
	APIVersion, Kind string
	Versions         string
}

func (e *UnknownKindError) Error() string {
	return fmt.Sprintf("%s %s: not a resource of Kubernetes %s, and no CustomResourceDefinition in the render or in envctl.yaml's crds: defines it (add its CRD to crds:, or pass --context to ask the cluster)", e.APIVersion, e.Kind, e.Versions)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sortedResources(m map[Resource]bool) []Resource {
	out := make([]Resource, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Resource) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Resource, b.Resource)
	})
	return out
}
