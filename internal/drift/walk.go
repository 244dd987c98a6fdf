package drift

import (
	"slices"
	"strings"
)

// objWalker compares one desired object with its live counterpart.
type objWalker struct {
	c       *comparer
	id      ObjectID
	group   string
	kind    string
	secret  bool
	saToken bool // a service-account-token Secret: the control plane fills data
	renamed bool
	podSpec []string // pod spec path of a workload template kind
	podPath []string // pod spec path of any kind with one, Pod included
	isPod   bool
	// hasEgress: a NetworkPolicy whose desired spec has egress rules (the
	// server then defaults policyTypes to Ingress and Egress).
	hasEgress bool
	// declaredServiceAccount is the live pod spec's serviceAccountName,
	// which the server copies into the deprecated serviceAccount.
	declaredServiceAccount any
	la                     any
	hasLA                  bool
	managed                []managedEntry
	ignores                [][]string
	path                   []seg
	changes                []FieldChange
}

func (c *comparer) compareObject(d, l *object, renamed bool) []FieldChange {
	w := &objWalker{
		c:       c,
		id:      d.id,
		group:   d.id.Group,
		kind:    d.id.Kind,
		secret:  d.secret,
		renamed: renamed,
		la:      l.lastApplied,
		hasLA:   l.hasLA,
		managed: l.managed,
		ignores: rulesFor(c.rules, d.id, d.secret),
		path:    make([]seg, 0, 16),
	}
	if d.secret {
		t := str(d.tree["type"])
		if t == "" {
			t = str(l.tree["type"])
		}
		w.saToken = t == "kubernetes.io/service-account-token"
	}
	if ps := podSpecPath(d.id.Group, d.id.Kind); ps != nil {
		w.podPath = ps
		w.declaredServiceAccount = mapAt(l.tree, ps...)["serviceAccountName"]
		if d.id.Kind == "Pod" {
			w.isPod = true
		} else {
			w.podSpec = ps
		}
	}
	if d.id.Group == "networking.k8s.io" && d.id.Kind == "NetworkPolicy" {
		_, w.hasEgress = mapAt(d.tree, "spec")["egress"]
	}
	lt := l.tree
	if renamed {
		// The name differs by the hash; Rename reports it.
		lt = shallowWithName(l.tree, d.id.Name)
	}
	w.walk(d.tree, lt, true, true)
	return w.changes
}

// shallowWithName copies the top of a tree with metadata.name replaced.
func shallowWithName(t map[string]any, name string) map[string]any {
	out := make(map[string]any, len(t))
	for k, v := range t {
		out[k] = v
	}
	md := make(map[string]any, len(mapAt(t, "metadata")))
	for k, v := range mapAt(t, "metadata") {
		md[k] = v
	}
	md["name"] = name
	out["metadata"] = md
	return out
}

func (w *objWalker) push(s seg) { w.path = append(w.path, s) }
func (w *objWalker) pop()       { w.path = w.path[:len(w.path)-1] }

// walk compares the desired value d with the live value l at w.path.
func (w *objWalker) walk(d, l any, hasD, hasL bool) {
	if hasD && d == nil {
		hasD = false
	}
	if hasL && l == nil {
		hasL = false
	}
	if w.ignored() {
		return
	}
	switch {
	case !hasD && !hasL:
		return
	case hasD && !hasL:
		switch dm, isMap := d.(map[string]any); {
		case !zeroish(d) || w.zeroNotDefault(d):
			w.add(FieldAdded, Value{}, w.value(d))
		case isMap:
			// A block of zero values: one may be a security field
			// whose default is not zero.
			for _, k := range sortedFields(dm) {
				w.push(seg{key: k})
				w.walk(dm[k], nil, true, false)
				w.pop()
			}
		}
		return
	case !hasD && hasL:
		w.liveOnly(l)
		return
	}
	switch dv := d.(type) {
	case map[string]any:
		lv, ok := l.(map[string]any)
		if !ok {
			w.changedIfDifferent(d, l)
			return
		}
		for _, k := range sortedFields(dv, lv) {
			dc, inD := dv[k]
			lc, inL := lv[k]
			w.push(seg{key: k})
			w.walk(dc, lc, inD, inL)
			w.pop()
		}
	case []any:
		lv, ok := l.([]any)
		if !ok {
			w.changedIfDifferent(d, l)
			return
		}
		w.compareList(dv, lv)
	default:
		if !isScalar(l) {
			w.changedIfDifferent(d, l)
			return
		}
		if !scalarEqual(d, l, w.isQuantity()) {
			w.changed(l, d)
		}
	}
}

func (w *objWalker) changedIfDifferent(d, l any) {
	if !treeEqual(d, l) {
		w.changed(l, d)
	}
}

// liveOnly handles a value that only the cluster has. It is drift when
// the repository declared it earlier (removed), or when the repository
// owns it without declaring it (extra): a closed list or map, a security
// field that is not the Kubernetes default, a field set by hand.
func (w *objWalker) liveOnly(l any) {
	if w.ignored() || isEmpty(l) || w.serverAllocated(l) {
		return
	}
	closed, def, hasDef := w.security()
	if closed && (hasDef && w.isSecurityDefault(l, def) || w.serviceAccountAlias(l)) {
		return
	}
	switch t := l.(type) {
	case map[string]any:
		if w.declared() && w.allDeclared(t) {
			// A whole block removed from the repository: one change.
			w.add(FieldRemoved, w.value(l), Value{})
			return
		}
		for _, k := range sortedFields(t) {
			w.push(seg{key: k})
			w.liveOnly(t[k])
			w.pop()
		}
	case []any:
		st := w.strategyFor(nil, t)
		declared := w.declared()
		if st.kind == listAtomic {
			switch {
			case declared:
				w.add(FieldRemoved, w.value(l), Value{})
			case w.closedWhenAbsent(), closed, w.handOwned():
				w.addExtra(l)
			}
			return
		}
		if declared || w.closedWhenAbsent() || closed {
			w.compareList(nil, t)
			return
		}
		// An open list: only the items a hand edit added.
		for j, it := range t {
			w.push(seg{item: true, index: j, keys: st.keys, value: it, set: st.kind == listSet})
			if w.handOwned() {
				w.addExtra(it)
			}
			w.pop()
		}
	default:
		switch {
		case w.declared(), w.renamed && w.inClosedMap():
			w.add(FieldRemoved, w.value(l), Value{})
		case w.inClosedMap(), closed, w.handOwned():
			w.addExtra(l)
		}
	}
}

// zeroNotDefault reports whether a declared false or 0 whose live field
// is absent differs from the Kubernetes default there: the server keeps
// false and 0 in the pointer fields of SecurityPaths, so absent means the
// default, and allowPrivilegeEscalation: false is not the same as absent.
func (w *objWalker) zeroNotDefault(d any) bool {
	switch d.(type) {
	case bool, int64, float64:
	default:
		return false
	}
	closed, def, hasDef := w.security()
	return closed && (!hasDef || !scalarEqual(d, def, false))
}

// handOwned reports whether a hand-edit manager's managedFields entry owns
// the current path. Labels and annotations are left out unless
// Options.StrictMetadata.
func (w *objWalker) handOwned() bool {
	if !w.c.opts.StrictMetadata && w.inMetadataMap() {
		return false
	}
	for _, e := range w.managed {
		if e.handEdit && e.set.lookup(w.path, w.secret) != nil {
			return true
		}
	}
	return false
}

// inMetadataMap reports whether the current path is in the labels or
// annotations of the object or of a template in it.
func (w *objWalker) inMetadataMap() bool {
	for i := 0; i+1 < len(w.path); i++ {
		if w.keyAt(i) == "metadata" && (w.keyAt(i+1) == "labels" || w.keyAt(i+1) == "annotations") {
			return true
		}
	}
	return false
}

// setters returns the hand-edit managers that own the current path.
func (w *objWalker) setters() []Setter {
	var out []Setter
	for _, e := range w.managed {
		if e.handEdit && e.set.lookup(w.path, w.secret) != nil {
			out = append(out, Setter{Manager: e.manager, Time: e.time})
		}
	}
	slices.SortFunc(out, func(a, b Setter) int { return strings.Compare(a.Manager, b.Manager) })
	return out
}

// allDeclared reports whether every non-empty value under the live-only
// value l (at the current path) was declared by an earlier apply, so that
// l can be reported as one removed block.
func (w *objWalker) allDeclared(l any) bool {
	if w.ignored() || w.serverAllocated(l) {
		return false // report around it, field by field
	}
	if isEmpty(l) {
		return true
	}
	switch t := l.(type) {
	case map[string]any:
		for _, k := range sortedFields(t) {
			w.push(seg{key: k})
			ok := w.allDeclared(t[k])
			w.pop()
			if !ok {
				return false
			}
		}
		return true
	case []any:
		st := w.strategyFor(nil, t)
		if st.kind == listAtomic {
			return w.declared()
		}
		for i, it := range t {
			w.push(seg{item: true, index: i, keys: st.keys, value: it, set: st.kind == listSet})
			ok := w.declared()
			w.pop()
			if !ok {
				return false
			}
		}
		return true
	}
	return w.declared()
}

// liveOnlyItem handles a list item that only the cluster has, in a list
// the repository owns.
func (w *objWalker) liveOnlyItem(l any) {
	if w.ignored() || w.serverAddedItem(l) {
		return
	}
	switch {
	case w.declared():
		w.add(FieldRemoved, w.value(l), Value{})
	case w.openList():
	default:
		w.addExtra(l)
	}
}

func (w *objWalker) compareList(d, l []any) {
	st := w.strategyFor(d, l)
	switch st.kind {
	case listAtomic:
		w.changedIfDifferent(d, l)
	case listIndex:
		for i := range max(len(d), len(l)) {
			w.push(seg{item: true, index: i})
			switch {
			case i < len(d) && i < len(l):
				w.walk(d[i], l[i], true, true)
			case i < len(d):
				w.walk(d[i], nil, true, false)
			default:
				w.liveOnlyItem(l[i])
			}
			w.pop()
		}
	default:
		keyFn := func(it any, live bool) string {
			if st.kind == listSet {
				return canonicalScalar(it)
			}
			if live {
				it = w.followRenameKey(it)
			}
			k, _ := keyOf(it, st.keys)
			return k
		}
		byKey := make(map[string][]int, len(l))
		for j, it := range l {
			k := keyFn(it, true)
			byKey[k] = append(byKey[k], j)
		}
		used := make([]bool, len(l))
		for i, it := range d {
			k := keyFn(it, false)
			j := -1
			if q := byKey[k]; len(q) > 0 {
				j, byKey[k] = q[0], q[1:]
				used[j] = true
			}
			w.push(seg{item: true, index: i, keys: st.keys, value: it, set: st.kind == listSet})
			if j >= 0 {
				w.walk(it, l[j], true, true)
			} else {
				w.walk(it, nil, true, false)
			}
			w.pop()
		}
		for j, it := range l {
			if used[j] {
				continue
			}
			w.push(seg{item: true, index: j, keys: st.keys, value: it, set: st.kind == listSet})
			w.liveOnlyItem(it)
			w.pop()
		}
	}
}

// followRenameKey maps a live imagePullSecrets item naming a renamed
// hashed Secret to the desired name, so that the item matches its
// successor and the change shows as a reference that follows the rename.
func (w *objWalker) followRenameKey(it any) any {
	n := len(w.path)
	if n == 0 || w.path[n-1].key != "imagePullSecrets" {
		return it
	}
	m, _ := it.(map[string]any)
	name := str(m["name"])
	for rk := range w.c.renames {
		if rk.namespace == w.id.Namespace && rk.kind == "Secret" && rk.from == name {
			return map[string]any{"name": rk.to}
		}
	}
	return it
}

func (w *objWalker) value(v any) Value {
	if w.secret && len(w.path) > 0 && (w.path[0].key == "data" || w.path[0].key == "stringData") {
		return maskedValue()
	}
	return plainValue(v)
}

func (w *objWalker) add(kind ChangeKind, old, new Value) {
	fc := FieldChange{
		Path:    pathString(w.path),
		Pointer: pointerString(w.path),
		Kind:    kind,
		Old:     old,
		New:     new,
	}
	if kind != FieldAdded && len(w.managed) > 0 {
		fc.SetBy = w.setters()
	}
	w.changes = append(w.changes, fc)
}

func (w *objWalker) addExtra(l any) {
	w.add(FieldExtra, w.value(l), Value{})
	w.changes[len(w.changes)-1].Managers = w.owners()
}

// changed records a changed field: old is live, new is desired.
func (w *objWalker) changed(old, new any) {
	ov, nv := w.value(old), w.value(new)
	w.add(FieldChanged, ov, nv)
	fc := &w.changes[len(w.changes)-1]
	os, ok1 := old.(string)
	ns, ok2 := new.(string)
	if !ok1 || !ok2 || ov.Masked() {
		return
	}
	if ov.Multiline() || nv.Multiline() {
		fc.TextDiff = unifiedDiff(os, ns)
	}
	if k := refKind(w.path); k != "" {
		if id, ok := w.c.renames[renameKey{w.id.Namespace, k, os, ns}]; ok {
			fc.FollowsRename = &id
		} else if ob, ok1 := hashedBase(os); ok1 {
			// The new generation is live already (e.g. a partial apply):
			// still a reference that follows a regenerated object.
			nb, ok2 := hashedBase(ns)
			if d := w.c.desired[key{"", k, w.id.Namespace, ns}]; ok2 && ob == nb && d != nil {
				id := d.id
				fc.FollowsRename = &id
			}
		}
	}
}

// ignored reports whether an ignore rule selects the current path.
func (w *objWalker) ignored() bool {
	n := len(w.path)
outer:
	for _, toks := range w.ignores {
		if len(toks) != n {
			continue
		}
		for i, t := range toks {
			if !tokenMatches(t, w.path[i]) {
				continue outer
			}
		}
		return true
	}
	return false
}

// declared reports whether the live object shows that the repository
// declared the current path in an earlier apply.
func (w *objWalker) declared() bool {
	if w.hasLA && lastAppliedLookup(w.la, w.path, w.secret) {
		return true
	}
	for _, e := range w.managed {
		if !e.applier {
			continue
		}
		if set, inAtomic := e.set.lookupAtomic(w.path, w.secret); set != nil && !inAtomic {
			return true
		}
	}
	return false
}

// owners returns the managers whose managedFields entries own the current
// path.
func (w *objWalker) owners() []string {
	var out []string
	for _, e := range w.managed {
		if e.manager != "" && e.set.lookup(w.path, w.secret) != nil {
			out = append(out, e.manager)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (w *objWalker) keyAt(i int) string {
	if i < 0 || i >= len(w.path) || w.path[i].item {
		return ""
	}
	return w.path[i].key
}

// serverAllocated reports whether a live-only value at the current path is
// one the API server fills in: Service allocations (clusterIP, clusterIPs,
// ipFamilies, ipFamilyPolicy, healthCheckNodePort, ports[].nodePort) and
// the default protocol TCP. They are never drift unless the repository
// sets them.
func (w *objWalker) serverAllocated(l any) bool {
	if w.c.opts.Baseline != "" {
		return false // a render's clusterIP was declared
	}
	n := len(w.path)
	last := w.keyAt(n - 1)
	if last == "protocol" && l == "TCP" {
		return true
	}
	if w.group != "" || w.kind != "Service" || n < 2 || w.keyAt(0) != "spec" {
		return false
	}
	if n == 2 {
		switch last {
		case "clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy", "healthCheckNodePort":
			return true
		}
	}
	return n == 4 && w.keyAt(1) == "ports" && last == "nodePort"
}

// serverAddedItem reports whether a live-only item of a bare Pod's list is
// one admission adds: the service-account token volume and its mount, and
// the default not-ready/unreachable tolerations.
func (w *objWalker) serverAddedItem(l any) bool {
	if !w.isPod || w.c.opts.Baseline != "" {
		return false
	}
	m, _ := l.(map[string]any)
	switch w.keyAt(len(w.path) - 2) {
	case "volumes":
		return strings.HasPrefix(str(m["name"]), "kube-api-access-")
	case "volumeMounts":
		return str(m["mountPath"]) == "/var/run/secrets/kubernetes.io/serviceaccount"
	case "tolerations":
		k := str(m["key"])
		return k == "node.kubernetes.io/not-ready" || k == "node.kubernetes.io/unreachable"
	}
	return false
}

// openList reports whether the list holding the current item accepts
// items that others add: metadata.finalizers and metadata.ownerReferences.
func (w *objWalker) openList() bool {
	n := len(w.path)
	return n == 3 && w.keyAt(0) == "metadata" && (w.keyAt(1) == "finalizers" || w.keyAt(1) == "ownerReferences")
}

// inClosedMap reports whether the current path is a key of a map the
// repository owns whole: a ConfigMap's data and binaryData, a Secret's data
// (but not a service-account token's, which the control plane fills).
func (w *objWalker) inClosedMap() bool {
	if len(w.path) != 2 || w.path[1].item || w.group != "" {
		return false
	}
	switch w.kind {
	case "ConfigMap":
		return w.keyAt(0) == "data" || w.keyAt(0) == "binaryData"
	case "Secret":
		return w.keyAt(0) == "data" && !w.saToken
	}
	return false
}

// closedWhenAbsent reports whether the current path is a list of a
// workload's pod template that Kubernetes never fills by itself, so that
// the repository owns it even when it does not declare it: the pod's
// containers, initContainers, volumes and imagePullSecrets, and a
// container's env, envFrom, volumeMounts and ports.
func (w *objWalker) closedWhenAbsent() bool {
	ps := w.podSpec
	p := w.path
	if ps == nil || len(p) <= len(ps) {
		return false
	}
	for i, k := range ps {
		if p[i].item || p[i].key != k {
			return false
		}
	}
	rest := p[len(ps):]
	switch len(rest) {
	case 1:
		switch rest[0].key {
		case "containers", "initContainers", "volumes", "imagePullSecrets":
			return true
		}
	case 3:
		if (rest[0].key == "containers" || rest[0].key == "initContainers") && rest[1].item {
			switch rest[2].key {
			case "env", "envFrom", "volumeMounts", "ports":
				return !rest[2].item
			}
		}
	}
	return false
}

// isQuantity reports whether the current path holds a resource quantity:
// resources.limits.*, resources.requests.*, sizeLimit, ResourceQuota hard,
// PersistentVolume capacity, overhead, and LimitRange limits.
func (w *objWalker) isQuantity() bool {
	n := len(w.path)
	if n == 0 || w.path[n-1].item {
		return false
	}
	if w.path[n-1].key == "sizeLimit" {
		return true
	}
	parent := w.keyAt(n - 2)
	if w.kind == "HorizontalPodAutoscaler" && parent == "target" {
		// A metric target's value and averageValue are quantities.
		return w.path[n-1].key == "value" || w.path[n-1].key == "averageValue"
	}
	switch parent {
	case "limits", "requests":
		return w.keyAt(n-3) == "resources"
	case "hard", "capacity", "overhead", "allocatable":
		return true
	case "max", "min", "default", "defaultRequest", "maxLimitRequestRatio":
		return n >= 4 && w.path[n-3].item && w.keyAt(n-4) == "limits"
	}
	return false
}
