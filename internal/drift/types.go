package drift

import (
	"fmt"
	"slices"
	"strings"
)

// Options configures Compare. The zero value compares everything, detects no
// orphans and uses DefaultFieldManagers.
type Options struct {
	// Environment names the environment in the Report (printers show it;
	// JUnit uses it as the test-suite name). Compare does not read it.
	Environment string

	// DefaultNamespace is given to desired objects of namespaced kinds that
	// have no metadata.namespace, as kubectl does with the context's
	// namespace. A kind is cluster-scoped when it is a well-known built-in
	// cluster-scoped kind or when any live object of that group and kind has
	// no namespace.
	DefaultNamespace string

	// Ignore lists fields that are managed elsewhere.
	Ignore []IgnoreRule

	// Selector holds the labels that mark live objects as belonging to the
	// environment: a live object that carries all of them and is not rendered
	// is an orphan. nil turns orphan detection off; an empty, non-nil map
	// selects every live object.
	Selector map[string]string

	// Inventory, when not nil, replaces Selector for orphan detection: the
	// objects a deploy tool recorded applying (envctl's latest release).
	// A live object in it that is not rendered is an orphan, whatever its
	// labels; one with the labels that was never applied is not.
	Inventory []ObjectID

	// FieldManagers are the server-side-apply field managers whose
	// managedFields entries (operation Apply) count as "declared by the
	// repository earlier". Update entries never count, whatever the manager
	// (kubectl-client-side-apply included): the server records defaulted
	// fields under them; client-side applies are read from the
	// last-applied-configuration annotation instead. nil means
	// DefaultFieldManagers; an empty non-nil slice means none.
	FieldManagers []string

	// HandEditManagers are the managers whose Update entries in
	// managedFields mark a field as set by hand: a field one of them owns
	// that the repository does not declare is drift (FieldExtra, with
	// FieldChange.SetBy). nil means DefaultHandEditManagers.
	HandEditManagers []string

	// StrictMetadata makes labels and annotations set by hand drift too.
	// By default they are not: teams add them for ownership and
	// debugging, and they change nothing a pod can do.
	StrictMetadata bool

	// Baseline, when not empty, says the live objects are not a cluster's
	// but another render, and names it for the report: a git revision
	// (envctl diff --rev) or another environment (envctl compare). A
	// render holds only what was declared, so every field of a baseline
	// object was declared (one the desired side lacks is removed, with no
	// last-applied or managedFields evidence needed), nothing in it was
	// filled in by a server, and every baseline object the desired side
	// lacks is removed, whatever its labels. Statuses are then
	// StatusAdded, StatusRemoved and StatusUnchanged rather than missing,
	// orphaned and in sync, and the report carries the rollout impact
	// (Report.Rollout).
	Baseline string
}

// DefaultFieldManagers are the field managers used when
// Options.FieldManagers is nil: envctl's own, and kubectl apply
// --server-side's default.
var DefaultFieldManagers = []string{"envctl", "kubectl", "kustomize-controller", "argocd-controller"}

// DefaultHandEditManagers are the field managers of kubectl's imperative
// commands. kubectl-client-side-apply is not one: the server gives the
// creator of an object every defaulted field, so its Update entry cannot
// tell a hand edit from a default; its last-applied annotation can, and a
// field in it that the repository lacks is FieldRemoved.
var DefaultHandEditManagers = []string{
	"kubectl-edit", "kubectl-patch", "kubectl-set", "kubectl-scale",
	"kubectl-label", "kubectl-annotate", "kubectl-replace",
}

// IgnoreRule skips fields managed elsewhere. Every selector field is
// optional; an empty one matches everything.
type IgnoreRule struct {
	// APIVersion selects by API group: "apps/v1" and "apps/v1beta2" both
	// select group apps; "v1" selects the core group. The version part is
	// not compared, as in object identity.
	APIVersion string `json:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty"`
	// Name is a glob (path.Match syntax: *, ?, [a-z]).
	Name string `json:"name,omitempty"`

	// Pointer is an RFC 6901 JSON pointer to the ignored field, e.g.
	// /spec/replicas or /metadata/annotations/example.com~1owner. The field
	// and everything under it are skipped on both sides. A list item token
	// may be its index (desired index, or live index for items only live),
	// its key as the report's path shows it (name=api,
	// containerPort=8080,protocol=TCP) or * (any key or item). For Secrets,
	// /stringData/... is the same as /data/.... An empty pointer ignores the
	// matching objects altogether: they are neither compared nor orphans.
	Pointer string `json:"pointer"`
}

// Status is the state of one object.
type Status string

const (
	// StatusInSync: the live object has every field the repository declares.
	StatusInSync Status = "in-sync"
	// StatusChanged: the object exists on both sides and some field differs.
	StatusChanged Status = "changed"
	// StatusMissing: the repository declares the object; the cluster lacks it.
	StatusMissing Status = "missing"
	// StatusOrphaned: a live object matches Options.Selector but the
	// repository does not render it.
	StatusOrphaned Status = "orphaned"

	// With Options.Baseline (two renders compared), an object is
	// unchanged, changed, added (only the new render has it) or removed
	// (only the baseline has it).
	StatusUnchanged Status = "unchanged"
	StatusAdded     Status = "added"
	StatusRemoved   Status = "removed"
)

// ChangeKind says how one field differs.
type ChangeKind string

const (
	// FieldChanged: both sides have the field, with different values.
	// Old is the live value, New the repository's.
	FieldChanged ChangeKind = "changed"
	// FieldAdded: the repository declares the field; the live object lacks
	// it. Applying adds it.
	FieldAdded ChangeKind = "added"
	// FieldRemoved: the field is live, the live object shows that it was
	// declared by an earlier apply (last-applied-configuration or an
	// applier's managedFields entry), and the repository no longer declares
	// it. Applying removes it.
	FieldRemoved ChangeKind = "removed"
	// FieldExtra: a field the repository never declared is live where it
	// must not be: an item of a list (or a key of a ConfigMap's or
	// Secret's data) that the repository owns, a field a hand-edit
	// manager set (kubectl edit, patch, set, scale), or a security field
	// (SecurityPaths) that differs from the Kubernetes default.
	// Applying does NOT remove it (neither client-side nor server-side apply
	// deletes what another manager added); Managers names who added it when
	// managedFields tell.
	FieldExtra ChangeKind = "extra"
)

// ObjectID identifies an object. Two objects are the same object when group,
// kind, namespace and name are equal: the version is not part of identity
// (autoscaling/v2 and autoscaling/v2beta2 name the same HPA).
type ObjectID struct {
	Group     string `json:"group"`
	Version   string `json:"version"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// APIVersion returns group/version, or the version alone for the core group.
func (id ObjectID) APIVersion() string {
	if id.Group == "" {
		return id.Version
	}
	return id.Group + "/" + id.Version
}

// String returns "apps/v1 Deployment namespace/name" ("v1 Namespace name"
// for cluster-scoped objects).
func (id ObjectID) String() string {
	return id.APIVersion() + " " + id.Kind + " " + id.NamespacedName()
}

// NamespacedName returns "namespace/name", or "name" when cluster-scoped.
func (id ObjectID) NamespacedName() string {
	if id.Namespace == "" {
		return id.Name
	}
	return id.Namespace + "/" + id.Name
}

// key is the identity of an object: everything but the version.
type key struct{ group, kind, namespace, name string }

func (id ObjectID) key() key { return key{id.Group, id.Kind, id.Namespace, id.Name} }

func compareIDs(a, b ObjectID) int {
	return cmpStrings(
		a.Namespace, b.Namespace,
		a.Kind, b.Kind,
		a.Group, b.Group,
		a.Name, b.Name,
		a.Version, b.Version,
	)
}

// cmpStrings compares pairs (a0,b0), (a1,b1), ... lexicographically.
func cmpStrings(pairs ...string) int {
	for i := 0; i+1 < len(pairs); i += 2 {
		if c := strings.Compare(pairs[i], pairs[i+1]); c != 0 {
			return c
		}
	}
	return 0
}

// Rename records that a content-hashed ConfigMap or Secret (kustomize's
// configMapGenerator/secretGenerator) gets a new name: the cluster has
// Base-<old hash> and the repository renders Base-<new hash>.
type Rename struct {
	Base string `json:"base"`
	From string `json:"from"` // live name
	To   string `json:"to"`   // desired name
}

// Report is the result of one Compare.
type Report struct {
	Environment string `json:"environment,omitempty"`
	// Baseline is Options.Baseline: what the environment was compared
	// with when that was another render, not a cluster.
	Baseline string `json:"baseline,omitempty"`
	// Identical is set by a caller that knew, without comparing, that both
	// renders are the same (the same inputs): Objects is then empty and
	// Summary counts every object unchanged.
	Identical bool    `json:"identical,omitempty"`
	Summary   Summary `json:"summary"`
	// Rollout is the rollout impact of a comparison with a Baseline.
	Rollout *Rollout       `json:"rollout,omitempty"`
	Objects []ObjectResult `json:"objects"`
}

// HasDrift reports whether any object is changed, missing or orphaned
// (or, against a baseline, changed, added or removed).
func (r *Report) HasDrift() bool {
	s := r.Summary
	return s.Changed+s.Missing+s.Orphaned+s.Added+s.Removed > 0
}

// IdenticalReport is the report of an environment whose two renders are
// known to be identical: n objects, all unchanged.
func IdenticalReport(env, baseline string, n int) *Report {
	return &Report{Environment: env, Baseline: baseline, Identical: true, Summary: Summary{Objects: n, Unchanged: n}, Objects: []ObjectResult{}}
}

// Summary counts the objects of a Report by status.
type Summary struct {
	Objects  int `json:"objects"`
	InSync   int `json:"inSync"`
	Changed  int `json:"changed"`
	Missing  int `json:"missing"`
	Orphaned int `json:"orphaned"`
	// Against a baseline (Options.Baseline): unchanged, added and
	// removed objects.
	Unchanged int `json:"unchanged,omitempty"`
	Added     int `json:"added,omitempty"`
	Removed   int `json:"removed,omitempty"`
	// Renamed counts hashed ConfigMaps and Secrets that get a new name.
	Renamed int `json:"renamed"`
	// Rolling counts the distinct workloads that will roll because of them
	// (against a Baseline: for any reason, len(Report.Rollout.Restarts)).
	Rolling int `json:"rolling"`
}

// ObjectResult is the comparison of one object.
type ObjectResult struct {
	// ID is the desired object's identity (the live one's for orphans). For
	// a renamed hashed ConfigMap or Secret it carries the desired name;
	// Renamed tells the base and live names.
	ID     ObjectID `json:"id"`
	Status Status   `json:"status"`
	// Secret is true for v1 Secrets: every value under data and stringData
	// is Masked in Changes.
	Secret bool `json:"secret,omitempty"`
	// Renamed is set for a hashed ConfigMap or Secret whose live generation
	// has another hash.
	Renamed *Rename `json:"renamed,omitempty"`
	// Rolls lists, for a renamed ConfigMap or Secret, the desired workloads
	// whose pod templates reference it: applying rolls them.
	Rolls []ObjectID `json:"rolls,omitempty"`
	// SupersededBy is set on an orphaned old generation of a hashed
	// ConfigMap or Secret: the desired name that replaces it.
	SupersededBy string `json:"supersededBy,omitempty"`
	// Changes are the field differences, in a stable order: map keys
	// sorted, list items in the repository's order, then live-only items in
	// the cluster's order.
	Changes []FieldChange `json:"changes,omitempty"`
}

// FieldChange is one differing field.
type FieldChange struct {
	// Path names the field: dotted keys, list items by key
	// (spec.template.spec.containers[name=api].image) or by index
	// (args[0]), keys that are not plain words quoted
	// (metadata.annotations["example.com/owner"]).
	Path string `json:"path"`
	// Pointer is the same field as an RFC 6901 pointer with list indexes
	// (the desired index, or the live index for live-only items).
	Pointer string     `json:"pointer"`
	Kind    ChangeKind `json:"kind"`
	// Old is the live value, New the repository's; either is absent
	// (Value.Present false) for added, removed and extra fields.
	Old Value `json:"old,omitzero"`
	New Value `json:"new,omitzero"`
	// TextDiff is a unified diff (hunks only, 3 lines of context) from Old
	// to New when both are strings and one spans several lines. Never set
	// for secrets.
	TextDiff string `json:"textDiff,omitempty"`
	// Managers, for extra fields, are the managedFields managers that own
	// the field in the cluster (e.g. kubectl-edit), when the live object
	// tells.
	Managers []string `json:"managers,omitempty"`
	// SetBy names the hand-edit managers (Options.HandEditManagers) that
	// own the live field, each with the time of its managedFields entry:
	// the last time that manager changed the object, which for a hand
	// edit is when the field was set.
	SetBy []Setter `json:"setBy,omitempty"`
	// FollowsRename is set when the change is a workload's reference to a
	// renamed hashed ConfigMap or Secret (old and new names differ only by
	// the hash): it is part of that object's roll, and this is its ID.
	FollowsRename *ObjectID `json:"followsRename,omitempty"`
}

// Setter is a field manager that wrote a field, and when.
type Setter struct {
	Manager string `json:"manager"`
	Time    string `json:"time,omitempty"`
}

func (s Setter) String() string {
	if s.Time == "" {
		return s.Manager
	}
	return s.Manager + " at " + s.Time
}

func (c FieldChange) String() string {
	switch c.Kind {
	case FieldChanged:
		return fmt.Sprintf("%s: %v → %v", c.Path, c.Old, c.New)
	case FieldAdded:
		return fmt.Sprintf("%s: added %v", c.Path, c.New)
	default:
		return fmt.Sprintf("%s: %s %v", c.Path, c.Kind, c.Old)
	}
}

func sortResults(objs []ObjectResult) {
	slices.SortFunc(objs, func(a, b ObjectResult) int { return compareIDs(a.ID, b.ID) })
}

func summarize(objs []ObjectResult) Summary {
	s := Summary{Objects: len(objs)}
	rolling := map[key]bool{}
	for _, o := range objs {
		switch o.Status {
		case StatusInSync:
			s.InSync++
		case StatusChanged:
			s.Changed++
		case StatusMissing:
			s.Missing++
		case StatusOrphaned:
			s.Orphaned++
		case StatusUnchanged:
			s.Unchanged++
		case StatusAdded:
			s.Added++
		case StatusRemoved:
			s.Removed++
		}
		if o.Renamed != nil {
			s.Renamed++
		}
		for _, r := range o.Rolls {
			rolling[r.key()] = true
		}
	}
	s.Rolling = len(rolling)
	return s
}
