package drift

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// object is one parsed, normalised object.
type object struct {
	id          ObjectID
	tree        map[string]any // noise stripped; Secret data decoded
	labels      map[string]any
	lastApplied any
	hasLA       bool
	managed     []managedEntry
	created     string // metadata.creationTimestamp
	controlled  bool   // has an ownerReference with controller: true
	secret      bool
	index       int
}

// comparer holds what one Compare call shares between objects.
type comparer struct {
	opts     Options
	managers []string
	// handEditors are Options.HandEditManagers or their default.
	handEditors []string
	rules       []rule
	renames     map[renameKey]ObjectID
	desired     map[key]*object
	// inventory is Options.Inventory by key, built on first use.
	inventory map[key]bool
}

// Compare compares the desired objects (the repository's rendering) with
// the live ones (the cluster's, or a snapshot's) and reports the drift.
// It does not modify its arguments. See the package documentation for what
// counts as drift.
//
// It runs in phases: parse and scope both sides, pair each desired object
// with its live object, pair hashed generators with their live generation,
// attribute the workloads that roll to each renamed generator, walk each
// pair for changed fields, find orphans, and summarise.
func Compare(desired, live []*yaml.RNode, opts Options) (*Report, error) {
	c, err := newComparer(opts)
	if err != nil {
		return nil, err
	}
	dObjs, err := c.parseAll(desired, "desired")
	if err != nil {
		return nil, err
	}
	lObjs, err := c.parseAll(live, "live")
	if err != nil {
		return nil, err
	}
	scopeNamespaces(dObjs, lObjs, opts.DefaultNamespace)
	liveByKey, err := indexByKey(lObjs, "live")
	if err != nil {
		return nil, err
	}
	desiredByKey, err := indexByKey(dObjs, "desired")
	if err != nil {
		return nil, err
	}
	c.desired = desiredByKey
	c.addHPARules(dObjs)

	p := c.pairObjects(dObjs, liveByKey)
	c.pairHashedGenerators(p, lObjs)
	rolls := attributeRolls(p)
	results := c.walkPairs(p, rolls)
	if opts.Baseline != "" {
		results = append(results, c.removed(lObjs, p.consumed, p.kept)...)
		rep := finishReport(opts.Environment, asBaseline(dropEmptyRenames(results)))
		rep.Baseline = opts.Baseline
		rep.Rollout = rolloutImpact(rep, desiredByKey)
		if rep.Rollout != nil {
			// Between renders every roll is known, not only the
			// renames': an image or env change rolls as surely.
			rep.Summary.Rolling = len(rep.Rollout.Restarts)
		}
		return rep, nil
	}
	if opts.Selector != nil || opts.Inventory != nil {
		results = append(results, c.orphans(lObjs, p.consumed, p.kept, desiredByKey, liveByKey)...)
	}
	rep := finishReport(opts.Environment, results)
	rep.Rollout = rolloutImpact(&Report{Objects: applied(rep.Objects)}, desiredByKey)
	return rep, nil
}

// newComparer prepares what every object's comparison shares: the field
// managers and the compiled ignore rules.
func newComparer(opts Options) (*comparer, error) {
	c := &comparer{opts: opts, managers: opts.FieldManagers, renames: map[renameKey]ObjectID{}}
	if c.managers == nil {
		c.managers = DefaultFieldManagers
	}
	c.handEditors = opts.HandEditManagers
	if c.handEditors == nil {
		c.handEditors = DefaultHandEditManagers
	}
	for i, r := range opts.Ignore {
		cr, err := compileRule(r)
		if err != nil {
			return nil, fmt.Errorf("ignore rule %d: %w", i+1, err)
		}
		c.rules = append(c.rules, cr)
	}
	return c, nil
}

// scopeNamespaces makes the desired objects' namespaces what the cluster
// will give them: none for cluster-scoped kinds (well-known ones, and
// kinds the live side shows without a namespace), defaultNamespace for
// namespaced objects that name none.
func scopeNamespaces(dObjs, lObjs []*object, defaultNamespace string) {
	clusterScoped := map[[2]string]bool{}
	for _, o := range lObjs {
		if o.id.Namespace == "" {
			clusterScoped[[2]string{o.id.Group, o.id.Kind}] = true
		}
	}
	for _, o := range dObjs {
		gk := [2]string{o.id.Group, o.id.Kind}
		md := mapAt(o.tree, "metadata")
		switch {
		case builtinClusterScoped[gk] || clusterScoped[gk]:
			o.id.Namespace = ""
			delete(md, "namespace")
		case o.id.Namespace == "" && defaultNamespace != "":
			o.id.Namespace = defaultNamespace
			md["namespace"] = defaultNamespace
		}
	}
}

// indexByKey maps objects by identity; two objects of one side with the
// same identity are an error.
func indexByKey(objs []*object, side string) (map[key]*object, error) {
	byKey := make(map[key]*object, len(objs))
	for _, o := range objs {
		if prev, dup := byKey[o.id.key()]; dup {
			return nil, fmt.Errorf("%s objects %d and %d are the same object, %s", side, prev.index+1, o.index+1, o.id)
		}
		byKey[o.id.key()] = o
	}
	return byKey, nil
}

// pairing says which live object each desired object is compared with.
type pairing struct {
	// kept are the desired objects not ignored whole, in input order.
	kept []*object
	// live maps a desired object's key to its live object.
	live map[key]*object
	// consumed holds the keys of live objects that are accounted for
	// (paired, or ignored whole): they are not orphans.
	consumed map[key]bool
	// renamed maps a desired hashed generator's key to its rename from
	// the live generation it is paired with.
	renamed map[key]*Rename
}

// pairObjects pairs each desired object with the live object of the same
// identity, and drops the desired objects an ignore rule covers whole.
func (c *comparer) pairObjects(dObjs []*object, liveByKey map[key]*object) *pairing {
	p := &pairing{
		live:     make(map[key]*object, len(dObjs)),
		consumed: make(map[key]bool, len(liveByKey)),
		renamed:  map[key]*Rename{},
	}
	for _, d := range dObjs {
		if c.wholeIgnored(d.id) {
			p.consumed[d.id.key()] = true
			continue
		}
		p.kept = append(p.kept, d)
		if l := liveByKey[d.id.key()]; l != nil {
			p.live[d.id.key()] = l
			p.consumed[d.id.key()] = true
		}
	}
	return p
}

// pairHashedGenerators pairs each hashed ConfigMap and Secret whose exact
// name is not live with the live generation of the same base name, and
// records the rename.
func (c *comparer) pairHashedGenerators(p *pairing, lObjs []*object) {
	liveRefs := refCounts(lObjs)
	for _, d := range p.kept {
		if p.live[d.id.key()] != nil || !isHashable(d.id.Group, d.id.Kind) {
			continue
		}
		base, ok := hashedBase(d.id.Name)
		if !ok {
			continue
		}
		l := c.liveGeneration(d, base, lObjs, p.consumed, liveRefs)
		if l == nil {
			continue
		}
		p.live[d.id.key()] = l
		p.consumed[l.id.key()] = true
		rn := &Rename{Base: base, From: l.id.Name, To: d.id.Name}
		p.renamed[d.id.key()] = rn
		c.renames[renameKey{d.id.Namespace, d.id.Kind, rn.From, rn.To}] = d.id
	}
}

// liveGeneration picks the live generation a desired hashed object d
// (base name base) replaces: among the unpaired live objects of its kind
// and namespace with the same base name that the repository does not
// render, the one most live workloads reference, else the newest, else
// the first by name. nil when there is none.
func (c *comparer) liveGeneration(d *object, base string, lObjs []*object, consumed map[key]bool, liveRefs map[ref]int) *object {
	var cands []*object
	for _, l := range lObjs {
		if consumed[l.id.key()] || l.id.Group != d.id.Group || l.id.Kind != d.id.Kind || l.id.Namespace != d.id.Namespace {
			continue
		}
		if lb, ok := hashedBase(l.id.Name); ok && lb == base && c.desired[l.id.key()] == nil {
			cands = append(cands, l)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	slices.SortFunc(cands, func(a, b *object) int {
		ra := liveRefs[refKey(a.id)]
		rb := liveRefs[refKey(b.id)]
		if ra != rb {
			return rb - ra // most referenced first
		}
		if c := strings.Compare(b.created, a.created); c != 0 {
			return c // newest first
		}
		return strings.Compare(a.id.Name, b.id.Name)
	})
	return cands[0]
}

// attributeRolls maps each renamed desired ConfigMap or Secret to the
// desired workloads whose pod templates reference it: they roll when it
// is applied.
func attributeRolls(p *pairing) map[key][]ObjectID {
	rolls := map[key][]ObjectID{}
	for _, d := range p.kept {
		ps := podSpecPath(d.id.Group, d.id.Kind)
		if ps == nil {
			continue
		}
		for _, r := range podRefs(mapAt(d.tree, ps...)) {
			k := key{"", r.kind, d.id.Namespace, r.name}
			if p.renamed[k] != nil {
				rolls[k] = append(rolls[k], d.id)
			}
		}
	}
	return rolls
}

// walkPairs compares each kept desired object with its live pair, field
// by field: missing when there is none, changed when a field differs or
// it was renamed, in sync otherwise.
func (c *comparer) walkPairs(p *pairing, rolls map[key][]ObjectID) []ObjectResult {
	results := make([]ObjectResult, 0, len(p.kept))
	for _, d := range p.kept {
		res := ObjectResult{ID: d.id, Secret: d.secret}
		l := p.live[d.id.key()]
		if l == nil {
			res.Status = StatusMissing
			results = append(results, res)
			continue
		}
		if rn := p.renamed[d.id.key()]; rn != nil {
			res.Renamed = rn
			res.Rolls = rolls[d.id.key()]
			slices.SortFunc(res.Rolls, compareIDs)
		}
		res.Changes = c.compareObject(d, l, res.Renamed != nil)
		res.Status = StatusInSync
		if len(res.Changes) > 0 || res.Renamed != nil {
			res.Status = StatusChanged
		}
		results = append(results, res)
	}
	return results
}

// finishReport sorts the results into the report's order and summarises
// them.
func finishReport(env string, results []ObjectResult) *Report {
	sortResults(results)
	return &Report{Environment: env, Summary: summarize(results), Objects: results}
}

func refKey(id ObjectID) ref { return ref{id.Kind, id.Namespace + "/" + id.Name} }

// refCounts counts, per ConfigMap/Secret, the live workloads whose pod
// templates reference it.
func refCounts(objs []*object) map[ref]int {
	counts := map[ref]int{}
	for _, o := range objs {
		ps := podSpecPath(o.id.Group, o.id.Kind)
		if ps == nil {
			continue
		}
		for _, r := range podRefs(mapAt(o.tree, ps...)) {
			counts[ref{r.kind, o.id.Namespace + "/" + r.name}]++
		}
	}
	return counts
}

func (c *comparer) wholeIgnored(id ObjectID) bool {
	for _, r := range c.rules {
		if r.whole && r.selects(id) {
			return true
		}
	}
	return false
}

// addHPARules ignores spec.replicas of every workload that a desired
// HorizontalPodAutoscaler scales.
func (c *comparer) addHPARules(objs []*object) {
	for _, o := range objs {
		if o.id.Group != "autoscaling" || o.id.Kind != "HorizontalPodAutoscaler" {
			continue
		}
		t := mapAt(o.tree, "spec", "scaleTargetRef")
		kind, name := str(t["kind"]), str(t["name"])
		if kind == "" || name == "" {
			continue
		}
		r := rule{kind: kind, namespace: o.id.Namespace, exactName: name, anyGroup: true, tokens: []string{"spec", "replicas"}}
		if av := str(t["apiVersion"]); av != "" {
			r.group, _ = splitAPIVersion(av)
			r.anyGroup = false
		}
		c.rules = append(c.rules, r)
	}
}

// orphans reports the live objects that match the selector and are not
// rendered. Skipped: objects a controller owns (ReplicaSets, Pods, Jobs of
// CronJobs, EndpointSlices), Endpoints named after a Service, and the
// PersistentVolumeClaims a desired StatefulSet's volumeClaimTemplates
// create.
func (c *comparer) orphans(lObjs []*object, consumed map[key]bool, kept []*object, desiredByKey, liveByKey map[key]*object) []ObjectResult {
	claims := map[string]bool{} // namespace/prefix of StatefulSet PVC names
	for _, d := range kept {
		if d.id.Group == "apps" && d.id.Kind == "StatefulSet" {
			for _, t := range listAt(d.tree, "spec", "volumeClaimTemplates") {
				if n := str(mapAt(t, "metadata")["name"]); n != "" {
					claims[d.id.Namespace+"/"+n+"-"+d.id.Name+"-"] = true
				}
			}
		}
	}
	var out []ObjectResult
	for _, l := range lObjs {
		if consumed[l.id.key()] || c.wholeIgnored(l.id) || l.controlled || !c.selected(l) {
			continue
		}
		if l.id.Group == "" && l.id.Kind == "Endpoints" {
			svc := key{"", "Service", l.id.Namespace, l.id.Name}
			if desiredByKey[svc] != nil || liveByKey[svc] != nil {
				continue
			}
		}
		if l.id.Group == "" && l.id.Kind == "PersistentVolumeClaim" && isClaimOf(claims, l.id) {
			continue
		}
		res := ObjectResult{ID: l.id, Status: StatusOrphaned, Secret: l.secret}
		if isHashable(l.id.Group, l.id.Kind) {
			if base, ok := hashedBase(l.id.Name); ok {
				for _, d := range kept {
					if db, ok := hashedBase(d.id.Name); ok && db == base && d.id.Kind == l.id.Kind && d.id.Group == l.id.Group && d.id.Namespace == l.id.Namespace {
						res.SupersededBy = d.id.Name
						break
					}
				}
			}
		}
		out = append(out, res)
	}
	return out
}

// removed reports, against a baseline render, every baseline object the
// desired render lacks: a render has no server-made objects to skip.
func (c *comparer) removed(lObjs []*object, consumed map[key]bool, kept []*object) []ObjectResult {
	var out []ObjectResult
	for _, l := range lObjs {
		if consumed[l.id.key()] || c.wholeIgnored(l.id) {
			continue
		}
		res := ObjectResult{ID: l.id, Status: StatusOrphaned, Secret: l.secret}
		if base, ok := hashedBase(l.id.Name); ok && isHashable(l.id.Group, l.id.Kind) {
			for _, d := range kept {
				if db, ok := hashedBase(d.id.Name); ok && db == base && d.id.Kind == l.id.Kind && d.id.Group == l.id.Group && d.id.Namespace == l.id.Namespace {
					res.SupersededBy = d.id.Name
					break
				}
			}
		}
		out = append(out, res)
	}
	return out
}

// applied is what applying the repository changes of results: extra
// fields stay (apply does not remove another manager's fields), so they
// roll nothing.
func applied(results []ObjectResult) []ObjectResult {
	out := make([]ObjectResult, 0, len(results))
	for _, r := range results {
		var kept []FieldChange
		for _, c := range r.Changes {
			if c.Kind != FieldExtra {
				kept = append(kept, c)
			}
		}
		if len(kept) == 0 && r.Renamed == nil && r.Status == StatusChanged {
			continue
		}
		r.Changes = kept
		out = append(out, r)
	}
	return out
}

// dropEmptyRenames, between two renders, treats a regenerated ConfigMap or
// Secret whose content is the same as unchanged, with the references
// that follow its new name: its hash moved only because of what was set
// aside (another environment's namespace or names), and nothing rolls.
func dropEmptyRenames(results []ObjectResult) []ObjectResult {
	same := map[key]bool{}
	for i := range results {
		if r := &results[i]; r.Renamed != nil && len(r.Changes) == 0 {
			same[r.ID.key()] = true
			r.Renamed, r.Rolls, r.Status = nil, nil, StatusInSync
		}
	}
	if len(same) == 0 {
		return results
	}
	for i := range results {
		r := &results[i]
		if r.Status != StatusChanged {
			continue
		}
		r.Changes = slices.DeleteFunc(r.Changes, func(c FieldChange) bool { return c.FollowsRename != nil && same[c.FollowsRename.key()] })
		if len(r.Changes) == 0 && r.Renamed == nil {
			r.Status, r.Changes = StatusInSync, nil
		}
	}
	return results
}

// asBaseline words the statuses of a comparison of two renders.
func asBaseline(results []ObjectResult) []ObjectResult {
	for i := range results {
		switch results[i].Status {
		case StatusInSync:
			results[i].Status = StatusUnchanged
		case StatusMissing:
			results[i].Status = StatusAdded
		case StatusOrphaned:
			results[i].Status = StatusRemoved
		}
	}
	return results
}

func isClaimOf(claims map[string]bool, id ObjectID) bool {
	i := strings.LastIndexByte(id.Name, '-')
	if i < 0 {
		return false
	}
	for _, r := range id.Name[i+1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	// name = <template>-<statefulset>-<ordinal>
	return claims[id.Namespace+"/"+id.Name[:i+1]]
}

func (c *comparer) selected(l *object) bool {
	if c.opts.Inventory != nil {
		if c.inventory == nil {
			c.inventory = map[key]bool{}
			for _, id := range c.opts.Inventory {
				c.inventory[id.key()] = true
			}
		}
		return c.inventory[l.id.key()]
	}
	for k, v := range c.opts.Selector {
		lv, ok := l.labels[k]
		if !ok || !isScalar(lv) || fmt.Sprint(lv) != v {
			return false
		}
	}
	return true
}

// parseAll converts and normalises objects.
func (c *comparer) parseAll(nodes []*yaml.RNode, side string) ([]*object, error) {
	out := make([]*object, 0, len(nodes))
	for i, rn := range nodes {
		if rn == nil || rn.YNode() == nil {
			return nil, fmt.Errorf("%s object %d is nil", side, i+1)
		}
		tree, ok := fromYAML(rn.YNode()).(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s object %d is not a mapping", side, i+1)
		}
		o, err := c.newObject(tree, side == "desired")
		if err != nil {
			return nil, fmt.Errorf("%s object %d: %w", side, i+1, err)
		}
		o.index = i
		out = append(out, o)
	}
	return out, nil
}

func (c *comparer) newObject(tree map[string]any, desired bool) (*object, error) {
	av, kind := str(tree["apiVersion"]), str(tree["kind"])
	md := mapAt(tree, "metadata")
	name := str(md["name"])
	if av == "" || kind == "" {
		return nil, fmt.Errorf("no apiVersion or kind")
	}
	if name == "" {
		return nil, fmt.Errorf("%s %s has no metadata.name", av, kind)
	}
	group, version := splitAPIVersion(av)
	o := &object{
		id:   ObjectID{Group: group, Version: version, Kind: kind, Namespace: str(md["namespace"]), Name: name},
		tree: tree,
	}
	o.secret = group == "" && kind == "Secret"
	o.labels = mapAt(md, "labels")
	o.created = str(md["creationTimestamp"])
	for _, or := range listAt(md, "ownerReferences") {
		if b, _ := mapAt(or)["controller"].(bool); b {
			o.controlled = true
		}
	}
	if !desired {
		o.managed = parseManagedFields(md["managedFields"], c.managers, c.handEditors)
	}
	ann := mapAt(md, "annotations")
	if c.opts.Baseline != "" && !desired {
		// A render: everything it has was declared (see below, after
		// normalisation). Its own annotations are not evidence.
	} else if s := str(ann[lastAppliedAnnotation]); s != "" && !desired {
		if la, ok := parseJSONTree(s); ok {
			o.lastApplied, o.hasLA = la, true
			if o.secret {
				foldSecret(mapAt(la))
			}
		}
	}
	stripNoise(tree)
	if o.secret {
		foldSecret(tree)
	}
	if group == "" && kind == "ConfigMap" {
		canonicalBinary(tree)
	}
	if c.opts.Baseline != "" && !desired {
		// The baseline is itself the record of what was declared.
		o.lastApplied, o.hasLA = tree, true
	}
	return o, nil
}

// Metadata the API server or tooling maintains: never drift.
var noiseMetadata = []string{
	"uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
	"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds",
}

var noiseAnnotations = []string{
	lastAppliedAnnotation,
	"deployment.kubernetes.io/revision",
	// kyaml reader annotations: never sent to a cluster.
	"config.kubernetes.io/index", "config.kubernetes.io/path", "config.k8s.io/id",
}

func stripNoise(tree map[string]any) {
	// apiVersion and kind are the identity (the version may differ).
	delete(tree, "apiVersion")
	delete(tree, "kind")
	delete(tree, "status")
	md := mapAt(tree, "metadata")
	for _, k := range noiseMetadata {
		delete(md, k)
	}
	ann := mapAt(md, "annotations")
	for _, k := range noiseAnnotations {
		delete(ann, k)
	}
	for k := range ann {
		if strings.HasPrefix(k, "internal.config.kubernetes.io/") {
			delete(ann, k)
		}
	}
}

// foldSecret decodes a Secret's data and folds stringData into it, as the
// API server does, so that values compare by content.
func foldSecret(tree map[string]any) {
	if tree == nil {
		return
	}
	data := map[string]any{}
	for k, v := range mapAt(tree, "data") {
		if s, ok := decodeBase64(v); ok {
			data[k] = s
		} else {
			data[k] = v
		}
	}
	for k, v := range mapAt(tree, "stringData") {
		data[k] = v
	}
	_, hadData := tree["data"]
	_, hadString := tree["stringData"]
	delete(tree, "stringData")
	if hadData || hadString {
		tree["data"] = data
	}
}

// canonicalBinary re-encodes a ConfigMap's binaryData without line breaks.
func canonicalBinary(tree map[string]any) {
	for k, v := range mapAt(tree, "binaryData") {
		if s, ok := decodeBase64(v); ok {
			mapAt(tree, "binaryData")[k] = base64.StdEncoding.EncodeToString([]byte(s))
		}
	}
}

// builtinClusterScoped are the well-known cluster-scoped kinds, by group
// and kind: a desired object of one of them has no namespace even when no
// live object of its kind shows it.
var builtinClusterScoped = map[[2]string]bool{
	{"", "Namespace"}:                                                    true,
	{"", "Node"}:                                                         true,
	{"", "PersistentVolume"}:                                             true,
	{"", "ComponentStatus"}:                                              true,
	{"rbac.authorization.k8s.io", "ClusterRole"}:                         true,
	{"rbac.authorization.k8s.io", "ClusterRoleBinding"}:                  true,
	{"apiextensions.k8s.io", "CustomResourceDefinition"}:                 true,
	{"apiregistration.k8s.io", "APIService"}:                             true,
	{"admissionregistration.k8s.io", "MutatingWebhookConfiguration"}:     true,
	{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration"}:   true,
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicy"}:        true,
	{"admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"}: true,
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicy"}:          true,
	{"admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"}:   true,
	{"scheduling.k8s.io", "PriorityClass"}:                               true,
	{"node.k8s.io", "RuntimeClass"}:                                      true,
	{"networking.k8s.io", "IngressClass"}:                                true,
	{"networking.k8s.io", "IPAddress"}:                                   true,
	{"networking.k8s.io", "ServiceCIDR"}:                                 true,
	{"storage.k8s.io", "StorageClass"}:                                   true,
	{"storage.k8s.io", "CSIDriver"}:                                      true,
	{"storage.k8s.io", "CSINode"}:                                        true,
	{"storage.k8s.io", "VolumeAttachment"}:                               true,
	{"storage.k8s.io", "VolumeAttributesClass"}:                          true,
	{"certificates.k8s.io", "CertificateSigningRequest"}:                 true,
	{"flowcontrol.apiserver.k8s.io", "FlowSchema"}:                       true,
	{"flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"}:       true,
	{"resource.k8s.io", "DeviceClass"}:                                   true,
}
