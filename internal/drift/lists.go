package drift

import (
	"strings"
)

// How list items are matched between the repository and the cluster.
type listKind int

const (
	listAtomic listKind = iota // compared whole (lists of scalars)
	listKeyed                  // items matched by key fields
	listSet                    // scalars matched by value (finalizers)
	listIndex                  // items matched by position
)

type listStrategy struct {
	kind listKind
	keys []string
}

// listKeys are the merge keys Kubernetes uses for well-known lists, by the
// list's field name. Service ports are keyed by port+protocol and container
// ports by containerPort+protocol; see strategyFor.
var listKeys = map[string][]string{
	"containers":                {"name"},
	"initContainers":            {"name"},
	"ephemeralContainers":       {"name"},
	"env":                       {"name"},
	"volumes":                   {"name"},
	"volumeMounts":              {"mountPath"},
	"volumeDevices":             {"devicePath"},
	"imagePullSecrets":          {"name"},
	"hostAliases":               {"ip"},
	"topologySpreadConstraints": {"topologyKey", "whenUnsatisfiable"},
	"resourceClaims":            {"name"},
	"schedulingGates":           {"name"},
	"readinessGates":            {"conditionType"},
}

// keyField returns item[f], with the server's default protocol: TCP.
func keyField(item map[string]any, f string) any {
	v, ok := item[f]
	if (!ok || v == nil) && f == "protocol" {
		return "TCP"
	}
	return v
}

// keyOf returns the canonical key of an item, or ok false when the item is
// not a map or lacks a key field (protocol excepted).
func keyOf(item any, keys []string) (string, bool) {
	m, ok := item.(map[string]any)
	if !ok {
		return "", false
	}
	var b strings.Builder
	for i, k := range keys {
		v := keyField(m, k)
		if v == nil || !isScalar(v) {
			return "", false
		}
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(canonicalScalar(v))
	}
	return b.String(), true
}

func canonicalScalar(v any) string {
	b, _ := marshalCompact(v)
	return string(b)
}

func sameKey(a, b map[string]any, keys []string) bool {
	for _, k := range keys {
		if !treeEqual(keyField(a, k), keyField(b, k)) {
			return false
		}
	}
	return true
}

// strategyFor picks how to match the items of the list at the walker's
// current path, given both sides.
func (w *objWalker) strategyFor(d, l []any) listStrategy {
	allScalar := true
	for _, side := range [][]any{d, l} {
		for _, it := range side {
			if !isScalar(it) {
				allScalar = false
			}
		}
	}
	p := w.path
	name := ""
	if n := len(p); n > 0 && !p[n-1].item {
		name = p[n-1].key
	}
	if allScalar {
		if len(p) == 2 && p[0].key == "metadata" && name == "finalizers" {
			return listStrategy{kind: listSet}
		}
		return listStrategy{kind: listAtomic}
	}
	var keys []string
	switch {
	case name == "ports" && w.kind == "Service" && w.group == "" && len(p) == 2 && p[0].key == "spec":
		keys = []string{"port", "protocol"}
	case name == "ports" && allHave(d, l, "containerPort"):
		keys = []string{"containerPort", "protocol"}
	case len(p) == 2 && p[0].key == "metadata" && name == "ownerReferences":
		keys = []string{"uid"}
	default:
		keys = listKeys[name]
	}
	if keys == nil && allHave(d, l, "name") {
		keys = []string{"name"}
	}
	if keys != nil {
		for _, side := range [][]any{d, l} {
			for _, it := range side {
				if _, ok := keyOf(it, keys); !ok {
					return listStrategy{kind: listIndex}
				}
			}
		}
		return listStrategy{kind: listKeyed, keys: keys}
	}
	return listStrategy{kind: listIndex}
}

// allHave reports whether every item on both sides is a map with a
// non-empty scalar field f (and there is at least one item).
func allHave(d, l []any, f string) bool {
	n := 0
	for _, side := range [][]any{d, l} {
		for _, it := range side {
			m, ok := it.(map[string]any)
			if !ok {
				return false
			}
			v := m[f]
			if v == nil || !isScalar(v) || v == "" {
				return false
			}
			n++
		}
	}
	return n > 0
}
