package drift

import (
	"slices"
	"strings"
)

// Security-relevant fields are closed: a live value the repository does not
// declare is drift even when no managedFields entry says who set it (a
// snapshot without managedFields, an object older than server-side apply,
// a manager nobody listed), unless it equals what Kubernetes assumes when
// the field is absent. These are the fields that widen what a pod may do;
// an open model would report `privileged: true` added by hand as in sync.
//
// Paths are relative to the pod spec of a workload (a Deployment's
// spec.template.spec, a CronJob's spec.jobTemplate.spec.template.spec, a
// Pod's spec), or to the object for the other kinds. "*" is any list
// item. A path covers everything under it.
//
// SecurityPaths is the table the README's "Security fields" section shows.
var SecurityPaths = []SecurityPath{
	{Kind: "pod", Path: "hostNetwork", Default: false},
	{Kind: "pod", Path: "hostPID", Default: false},
	{Kind: "pod", Path: "hostIPC", Default: false},
	{Kind: "pod", Path: "hostUsers", Default: true},
	{Kind: "pod", Path: "shareProcessNamespace", Default: false},
	{Kind: "pod", Path: "serviceAccountName", Default: "default"},
	{Kind: "pod", Path: "serviceAccount", Default: "default"}, // deprecated alias the server copies from serviceAccountName
	{Kind: "pod", Path: "automountServiceAccountToken", Default: true},
	{Kind: "pod", Path: "enableServiceLinks", Default: true},
	{Kind: "pod", Path: "securityContext"},
	{Kind: "pod", Path: "securityContext.runAsNonRoot", Default: false},
	{Kind: "pod", Path: "volumes.*.hostPath"},
	{Kind: "pod", Path: "*containers.*.securityContext"},
	{Kind: "pod", Path: "*containers.*.securityContext.privileged", Default: false},
	{Kind: "pod", Path: "*containers.*.securityContext.allowPrivilegeEscalation", Default: true},
	{Kind: "pod", Path: "*containers.*.securityContext.readOnlyRootFilesystem", Default: false},
	{Kind: "pod", Path: "*containers.*.securityContext.runAsNonRoot", Default: false},
	{Kind: "pod", Path: "*containers.*.securityContext.procMount", Default: "Default"},
	{Kind: "pod", Path: "*containers.*.image"},
	{Kind: "pod", Path: "*containers.*.command"},
	{Kind: "pod", Path: "*containers.*.args"},
	{Kind: "networking.k8s.io/NetworkPolicy", Path: "spec"},
}

// SecurityPath is one closed field.
type SecurityPath struct {
	// Kind is "pod" for a path in a workload's pod spec, else
	// group/Kind of the object the path is in.
	Kind string
	// Path is dotted; "*" is any list item; "*containers" stands for
	// containers, initContainers and ephemeralContainers.
	Path string
	// Default is the value Kubernetes assumes when the field is absent:
	// a live value equal to it is not drift, and a declared zero value
	// (false, 0) where the live field is absent is drift when it differs.
	// nil: every value differs from absent.
	Default any
}

type securityRule struct {
	toks []string
	def  any
}

var (
	podSecurity   []securityRule
	otherSecurity = map[[2]string][]securityRule{}
)

func init() {
	for _, p := range SecurityPaths {
		toks := strings.Split(p.Path, ".")
		var expanded [][]string
		if toks[0] == "*containers" {
			for _, c := range []string{"containers", "initContainers", "ephemeralContainers"} {
				expanded = append(expanded, append([]string{c}, toks[1:]...))
			}
		} else {
			expanded = [][]string{toks}
		}
		for _, t := range expanded {
			r := securityRule{toks: t, def: p.Default}
			if p.Kind == "pod" {
				podSecurity = append(podSecurity, r)
				continue
			}
			g, k, _ := strings.Cut(p.Kind, "/")
			otherSecurity[[2]string{g, k}] = append(otherSecurity[[2]string{g, k}], r)
		}
	}
}

// security says whether the current path is closed, and the Kubernetes
// default of the field at exactly this path (hasDef false: none known).
func (w *objWalker) security() (closed bool, def any, hasDef bool) {
	if w.c.opts.Baseline != "" {
		return false, nil, false // a render declares everything it has
	}
	rules, rel := w.securityRules()
	if rules == nil {
		return false, nil, false
	}
	for _, r := range rules {
		if len(r.toks) > len(rel) || !matchTokens(r.toks, rel) {
			continue
		}
		closed = true
		if len(r.toks) == len(rel) && r.def != nil {
			def, hasDef = r.def, true
		}
	}
	if closed && !hasDef && w.group == "networking.k8s.io" && w.kind == "NetworkPolicy" && len(rel) == 2 && rel[1].key == "policyTypes" {
		return true, w.defaultPolicyTypes(), true
	}
	return closed, def, hasDef
}

// securityRules returns the rules for the walked object and the current
// path relative to where they apply (the pod spec for workloads).
func (w *objWalker) securityRules() ([]securityRule, []seg) {
	if ps := w.podPath; ps != nil {
		if len(w.path) <= len(ps) {
			return nil, nil
		}
		for i, k := range ps {
			if w.path[i].item || w.path[i].key != k {
				return nil, nil
			}
		}
		return podSecurity, w.path[len(ps):]
	}
	return otherSecurity[[2]string{w.group, w.kind}], w.path
}

func matchTokens(toks []string, p []seg) bool {
	for i, t := range toks {
		switch {
		case t == "*":
			if !p[i].item {
				return false
			}
		case p[i].item || p[i].key != t:
			return false
		}
	}
	return true
}

// defaultPolicyTypes is what the API server gives a NetworkPolicy that
// names no policyTypes: Ingress, and Egress when it has egress rules.
func (w *objWalker) defaultPolicyTypes() any {
	if w.hasEgress {
		return []any{"Ingress", "Egress"}
	}
	return []any{"Ingress"}
}

// isSecurityDefault reports whether a live-only value at a closed path is
// the Kubernetes default, so absent and live mean the same.
func (w *objWalker) isSecurityDefault(l any, def any) bool {
	if ls, ok := l.([]any); ok {
		ds, _ := def.([]any)
		return slices.EqualFunc(ls, ds, func(a, b any) bool { return treeEqual(a, b) })
	}
	return isScalar(l) && scalarEqual(l, def, false)
}

// serviceAccountAlias reports whether the current path is a pod spec's
// deprecated serviceAccount and l is what the server copies into it from
// serviceAccountName.
func (w *objWalker) serviceAccountAlias(l any) bool {
	rules, rel := w.securityRules()
	if rules == nil || len(rel) != 1 || rel[0].key != "serviceAccount" {
		return false
	}
	return l == w.declaredServiceAccount
}
