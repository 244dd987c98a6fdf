package validate

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/repo"
)

// Built-in policy rules: stable ids, each with a one-line explanation.
const (
	RuleMinReplicas     = "min-replicas"
	RuleResources       = "resources"
	RuleImageTag        = "image-tag"
	RuleRunAsNonRoot    = "run-as-non-root"
	RuleNoPrivileged    = "no-privileged"
	RuleNoHostPath      = "no-host-path"
	RuleReadOnlyRootFS  = "read-only-root-fs"
	RuleRequiredLabels  = "required-labels"
	RulePDB             = "pdb"
	defaultMinReplicas  = 2
	defaultRequiredName = "app.kubernetes.io/name"
)

type builtinRule struct {
	summary string
	check   func(it *item, env *envState, p *policy) []Problem
}

// builtinRules is the catalogue of built-in policy rules.
var builtinRules = map[string]builtinRule{
	RuleMinReplicas: {"Deployments, StatefulSets and ReplicaSets run at least params.minReplicas replicas (default 2); an HPA's minReplicas counts for the workload it scales.", checkMinReplicas},
	RuleResources:   {"Every container and init container sets CPU and memory requests and limits, so the scheduler can place it and a leak cannot starve its neighbours.", checkResources},
	RuleImageTag:    {"Every image is pinned: a tag other than latest, or a digest; an untagged image means latest.", checkImageTag},
	RuleRunAsNonRoot: {"Every container runs as a non-root user: runAsNonRoot: true or a non-zero runAsUser, in the container's or the pod's securityContext.",
		checkRunAsNonRoot},
	RuleNoPrivileged:   {"No container runs privileged (securityContext.privileged: true gives it the host's devices and capabilities).", checkNoPrivileged},
	RuleNoHostPath:     {"No pod or PersistentVolume mounts a hostPath volume, which exposes the node's filesystem.", checkNoHostPath},
	RuleReadOnlyRootFS: {"Every container has a read-only root filesystem (securityContext.readOnlyRootFilesystem: true); writable paths are volumes.", checkReadOnlyRootFS},
	RuleRequiredLabels: {"Every object carries the labels in params.requiredLabels (default app.kubernetes.io/name).", checkRequiredLabels},
	RulePDB:            {"A Deployment or StatefulSet that runs more than one replica has a PodDisruptionBudget selecting its pods, so node drains keep it available.", checkPDB},
}

// policy is a compiled policy of envctl.yaml.
type policy struct {
	name    string
	envs    []string // empty: every environment
	rules   []string
	params  repo.PolicyParams
	exclude []repo.PolicyExclude
	custom  map[string]*customRule
}

// customRule is a rule of envctl.yaml: a JSON Schema for selected objects.
type customRule struct {
	id, description string
	kinds, names    []string
	schema          *jsonschema.Schema
	file            string
}

func (r *customRule) selects(o Object) bool {
	if !slices.ContainsFunc(r.kinds, func(k string) bool { return kindMatches(k, o) }) {
		return false
	}
	if len(r.names) == 0 {
		return true
	}
	return slices.ContainsFunc(r.names, func(n string) bool { ok, _ := path.Match(n, o.Name); return ok })
}

// kindMatches matches "Kind" or "group/version/Kind" ("v1/ConfigMap" for
// the core group); "" matches every kind.
func kindMatches(sel string, o Object) bool {
	return sel == "" || sel == o.Kind || sel == o.APIVersion+"/"+o.Kind
}

func (p *policy) excluded(rule string, o Object) bool {
	for _, x := range p.exclude {
		if len(x.Rules) > 0 && !slices.Contains(x.Rules, rule) {
			continue
		}
		if !kindMatches(x.Kind, o) {
			continue
		}
		if x.Name != "" {
			if ok, _ := path.Match(x.Name, o.Name); !ok {
				continue
			}
		}
		return true
	}
	return false
}

// check runs the policy's rules on one object.
func (p *policy) check(it *item, env *envState) []Problem {
	var out []Problem
	for _, id := range p.rules {
		if p.excluded(id, it.id) {
			continue
		}
		var ps []Problem
		if b, ok := builtinRules[id]; ok {
			ps = b.check(it, env, p)
		} else if c := p.custom[id]; c != nil && c.selects(it.id) {
			ps = violations(c.schema.Validate(it.obj), id)
			for i := range ps {
				ps[i].Schema = c.file
			}
		}
		for i := range ps {
			ps[i].Rule = id
		}
		out = append(out, ps...)
	}
	return out
}

// Pod templates by kind: where the pod spec is.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

var workloadGroups = map[string]string{
	"Pod": "", "ReplicationController": "",
	"Deployment": "apps", "StatefulSet": "apps", "DaemonSet": "apps", "ReplicaSet": "apps",
	"Job": "batch", "CronJob": "batch",
}

// podSpec returns an object's pod spec and its JSON pointer.
func podSpec(it *item) (map[string]any, string) {
	segs, ok := podSpecPaths[it.id.Kind]
	if !ok || workloadGroups[it.id.Kind] != it.id.Group() {
		return nil, ""
	}
	m, ok := mapAt(it.obj, segs...)
	if !ok {
		return nil, ""
	}
	return m, joinPointer(segs...)
}

type container struct {
	name string
	m    map[string]any
	ptr  string
	init bool
}

func containers(spec map[string]any, ptr string, withEphemeral bool) []container {
	var out []container
	lists := []string{"initContainers", "containers"}
	if withEphemeral {
		lists = append(lists, "ephemeralContainers")
	}
	for _, list := range lists {
		cs, _ := spec[list].([]any)
		for i, c := range cs {
			m, _ := c.(map[string]any)
			if m == nil {
				continue
			}
			name, _ := m["name"].(string)
			out = append(out, container{name: name, m: m, ptr: ptr + "/" + list + "/" + strconv.Itoa(i), init: list == "initContainers"})
		}
	}
	return out
}

func (c container) what() string {
	if c.init {
		return fmt.Sprintf("init container %q", c.name)
	}
	return fmt.Sprintf("container %q", c.name)
}

func replicasOf(it *item) (int64, bool) {
	spec, _ := it.obj["spec"].(map[string]any)
	if spec == nil {
		return 1, false
	}
	v, ok := spec["replicas"]
	if !ok || v == nil {
		return 1, false
	}
	n, ok := toInt(v)
	return n, ok
}

func toInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case uint64:
		return int64(n), true
	case float64:
		return int64(n), n == float64(int64(n))
	}
	return 0, false
}

// hpaFor returns the HorizontalPodAutoscaler that scales a workload.
func hpaFor(it *item, env *envState) *item {
	for _, h := range env.byKind["HorizontalPodAutoscaler"] {
		if h.id.Namespace != it.id.Namespace {
			continue
		}
		ref, _ := mapAt(h.obj, "spec", "scaleTargetRef")
		if ref == nil {
			continue
		}
		kind, _ := ref["kind"].(string)
		name, _ := ref["name"].(string)
		api, _ := ref["apiVersion"].(string)
		g, _, _ := strings.Cut(api, "/")
		if kind == it.id.Kind && name == it.id.Name && (api == "" || g == it.id.Group()) {
			return h
		}
	}
	return nil
}

var scaledKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "ReplicaSet": true}

func checkMinReplicas(it *item, env *envState, p *policy) []Problem {
	if !scaledKinds[it.id.Kind] || it.id.Group() != "apps" {
		return nil
	}
	min := int64(p.params.MinReplicas)
	if min == 0 {
		min = defaultMinReplicas
	}
	if h := hpaFor(it, env); h != nil {
		n := int64(1)
		if v, ok := mapAt(h.obj, "spec"); ok {
			if m, ok := toInt(v["minReplicas"]); ok {
				n = m
			}
		}
		if n < min {
			return []Problem{{Path: "/spec/replicas", Message: fmt.Sprintf("HorizontalPodAutoscaler %s scales it down to %d replica(s); the policy requires at least %d", h.id.Name, n, min)}}
		}
		return nil
	}
	n, set := replicasOf(it)
	if n >= min {
		return nil
	}
	msg := fmt.Sprintf("runs %d replica(s); the policy requires at least %d", n, min)
	if !set {
		msg = fmt.Sprintf("sets no replicas (so runs 1); the policy requires at least %d", min)
	}
	return []Problem{{Path: "/spec/replicas", Message: msg}}
}

func checkResources(it *item, _ *envState, _ *policy) []Problem {
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	var out []Problem
	for _, c := range containers(spec, ptr, false) {
		var missing []string
		for _, kind := range []string{"requests", "limits"} {
			m, _ := mapAt(c.m, "resources", kind)
			for _, res := range []string{"cpu", "memory"} {
				if v, ok := m[res]; !ok || v == nil || v == "" {
					missing = append(missing, res+" "+strings.TrimSuffix(kind, "s"))
				}
			}
		}
		if len(missing) > 0 {
			out = append(out, Problem{Path: c.ptr + "/resources", Message: fmt.Sprintf("%s sets no %s", c.what(), joinAnd(missing))})
		}
	}
	return out
}

func joinAnd(s []string) string {
	if len(s) <= 1 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func checkImageTag(it *item, _ *envState, _ *policy) []Problem {
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	var out []Problem
	for _, c := range containers(spec, ptr, true) {
		image, _ := c.m["image"].(string)
		if image == "" {
			continue
		}
		if msg := imageProblem(image); msg != "" {
			out = append(out, Problem{Path: c.ptr + "/image", Message: fmt.Sprintf("%s: %s", c.what(), msg)})
		}
	}
	return out
}

// imageProblem says what is wrong with an image reference's pinning.
func imageProblem(image string) string {
	if strings.Contains(image, "@") {
		return "" // a digest pins it
	}
	last := image[strings.LastIndexByte(image, '/')+1:]
	_, tag, ok := strings.Cut(last, ":")
	switch {
	case !ok || tag == "":
		return fmt.Sprintf("image %q has no tag, so it runs whatever latest is; pin a version or a digest", image)
	case tag == "latest":
		return fmt.Sprintf("image %q uses the latest tag; pin a version or a digest", image)
	}
	return ""
}

func boolAt(m map[string]any, path ...string) (bool, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return false, false
		}
		cur = mm[p]
	}
	b, ok := cur.(bool)
	return b, ok
}

func checkRunAsNonRoot(it *item, _ *envState, _ *policy) []Problem {
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	podNonRoot, podSet := boolAt(spec, "securityContext", "runAsNonRoot")
	podUser, podUserSet := int64(0), false
	if sc, ok := mapAt(spec, "securityContext"); ok {
		podUser, podUserSet = toInt(sc["runAsUser"])
	}
	var out []Problem
	for _, c := range containers(spec, ptr, false) {
		nonRoot, set := boolAt(c.m, "securityContext", "runAsNonRoot")
		if !set {
			nonRoot, set = podNonRoot, podSet
		}
		user, userSet := int64(0), false
		if sc, ok := mapAt(c.m, "securityContext"); ok {
			user, userSet = toInt(sc["runAsUser"])
		}
		if !userSet {
			user, userSet = podUser, podUserSet
		}
		switch {
		case userSet && user == 0:
			out = append(out, Problem{Path: c.ptr + "/securityContext/runAsUser", Message: fmt.Sprintf("%s runs as root (runAsUser: 0)", c.what())})
		case set && nonRoot, userSet && user > 0:
		default:
			out = append(out, Problem{Path: c.ptr + "/securityContext/runAsNonRoot", Message: fmt.Sprintf("%s may run as root: set runAsNonRoot: true or a non-zero runAsUser in its or the pod's securityContext", c.what())})
		}
	}
	return out
}

func checkNoPrivileged(it *item, _ *envState, _ *policy) []Problem {
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	var out []Problem
	for _, c := range containers(spec, ptr, true) {
		if p, _ := boolAt(c.m, "securityContext", "privileged"); p {
			out = append(out, Problem{Path: c.ptr + "/securityContext/privileged", Message: fmt.Sprintf("%s runs privileged", c.what())})
		}
	}
	return out
}

func checkNoHostPath(it *item, _ *envState, _ *policy) []Problem {
	if it.id.Kind == "PersistentVolume" && it.id.APIVersion == "v1" {
		if hp, ok := mapAt(it.obj, "spec", "hostPath"); ok {
			p, _ := hp["path"].(string)
			return []Problem{{Path: "/spec/hostPath", Message: fmt.Sprintf("the volume is the node's directory %q", p)}}
		}
		return nil
	}
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	var out []Problem
	vols, _ := spec["volumes"].([]any)
	for i, v := range vols {
		m, _ := v.(map[string]any)
		hp, ok := m["hostPath"].(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		p, _ := hp["path"].(string)
		out = append(out, Problem{Path: fmt.Sprintf("%s/volumes/%d/hostPath", ptr, i), Message: fmt.Sprintf("volume %q mounts the node's directory %q", name, p)})
	}
	return out
}

func checkReadOnlyRootFS(it *item, _ *envState, _ *policy) []Problem {
	spec, ptr := podSpec(it)
	if spec == nil {
		return nil
	}
	var out []Problem
	for _, c := range containers(spec, ptr, false) {
		if ro, _ := boolAt(c.m, "securityContext", "readOnlyRootFilesystem"); !ro {
			out = append(out, Problem{Path: c.ptr + "/securityContext/readOnlyRootFilesystem", Message: fmt.Sprintf("%s has a writable root filesystem", c.what())})
		}
	}
	return out
}

func checkRequiredLabels(it *item, _ *envState, p *policy) []Problem {
	required := p.params.RequiredLabels
	if len(required) == 0 {
		required = []string{defaultRequiredName}
	}
	labels, _ := mapAt(it.obj, "metadata", "labels")
	var out []Problem
	for _, l := range required {
		if v, _ := labels[l].(string); v == "" {
			out = append(out, Problem{Path: joinPointer("metadata", "labels", l), Message: fmt.Sprintf("label %q is missing", l)})
		}
	}
	return out
}

func checkPDB(it *item, env *envState, _ *policy) []Problem {
	if (it.id.Kind != "Deployment" && it.id.Kind != "StatefulSet") || it.id.Group() != "apps" {
		return nil
	}
	n, _ := replicasOf(it)
	if h := hpaFor(it, env); h != nil {
		if spec, ok := mapAt(h.obj, "spec"); ok {
			if m, ok := toInt(spec["minReplicas"]); ok {
				n = m
			} else {
				n = 1
			}
		}
	}
	if n <= 1 {
		return nil
	}
	labels, _ := mapAt(it.obj, "spec", "template", "metadata", "labels")
	for _, pdb := range env.byKind["PodDisruptionBudget"] {
		if pdb.id.Namespace != it.id.Namespace {
			continue
		}
		sel, ok := mapAt(pdb.obj, "spec", "selector")
		if ok && selects(sel, labels) {
			return nil
		}
	}
	return []Problem{{Path: "/spec/replicas", Message: fmt.Sprintf("runs %d replicas but no PodDisruptionBudget selects its pods", n)}}
}

// selects evaluates a label selector (matchLabels and matchExpressions)
// against labels. An empty selector selects nothing here: a PDB with an
// empty selector covers every pod, which is rarely meant.
func selects(sel map[string]any, labels map[string]any) bool {
	ml, _ := sel["matchLabels"].(map[string]any)
	exprs, _ := sel["matchExpressions"].([]any)
	if len(ml) == 0 && len(exprs) == 0 {
		return false
	}
	for k, v := range ml {
		if lv, ok := labels[k]; !ok || lv != v {
			return false
		}
	}
	for _, e := range exprs {
		m, _ := e.(map[string]any)
		key, _ := m["key"].(string)
		op, _ := m["operator"].(string)
		var values []string
		if vs, ok := m["values"].([]any); ok {
			for _, v := range vs {
				if s, ok := v.(string); ok {
					values = append(values, s)
				}
			}
		}
		lv, has := labels[key].(string)
		switch op {
		case "In":
			if !has || !slices.Contains(values, lv) {
				return false
			}
		case "NotIn":
			if has && slices.Contains(values, lv) {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return true
}
