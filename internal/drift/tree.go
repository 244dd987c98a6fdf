package drift

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/kustomize/kyaml/yaml"
)

// The engine compares plain trees: map[string]any, []any, string, bool,
// int64, float64 and nil, converted once from each yaml.Node.

// fromYAML converts a YAML node into a tree. Aliases are followed and merge
// keys (<<) applied; explicit keys win over merged ones.
func fromYAML(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return fromYAML(n.Content[0])
	case yaml.AliasNode:
		return fromYAML(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		var merges []*yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
				merges = append(merges, v)
				continue
			}
			m[k.Value] = fromYAML(v)
		}
		for _, mv := range merges {
			var srcs []any
			if mv.Kind == yaml.SequenceNode {
				for _, c := range mv.Content {
					srcs = append(srcs, fromYAML(c))
				}
			} else {
				srcs = append(srcs, fromYAML(mv))
			}
			for _, s := range srcs {
				sm, _ := s.(map[string]any)
				for k, v := range sm {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
			}
		}
		return m
	case yaml.SequenceNode:
		l := make([]any, len(n.Content))
		for i, c := range n.Content {
			l[i] = fromYAML(c)
		}
		return l
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err == nil {
			return b
		}
	case "!!int":
		if i, err := strconv.ParseInt(n.Value, 10, 64); err == nil {
			return i
		}
		var i int64
		if err := n.Decode(&i); err == nil {
			return i
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	case "!!float":
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return f
		}
		var f float64
		if err := n.Decode(&f); err == nil {
			return f
		}
	}
	return n.Value
}

// fromJSON converts encoding/json output (float64 numbers) into a tree:
// integral numbers become int64.
func fromJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			t[k] = fromJSON(c)
		}
		return t
	case []any:
		for i, c := range t {
			t[i] = fromJSON(c)
		}
		return t
	case json.Number:
		if i, err := t.Int64(); err == nil {
			return i
		}
		f, _ := t.Float64()
		return f
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int64(t)
		}
		return t
	}
	return v
}

func parseJSONTree(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return fromJSON(v), true
}

// isEmpty reports whether Kubernetes treats v like an absent field: null,
// "", an empty list, or a map whose values are all empty.
func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		for _, c := range t {
			if !isEmpty(c) {
				return false
			}
		}
		return true
	}
	return false
}

// zeroish reports whether a desired value equals an absent live field: it
// is empty, or false, or 0, or a map of such values. The API server omits
// such values only for fields where they mean the same as absent (Go
// fields with omitempty); where they mean something else (pointers, custom
// resources) it stores them, and the live field is present.
func zeroish(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case int64:
		return t == 0
	case float64:
		return t == 0
	case map[string]any:
		for _, c := range t {
			if !zeroish(c) {
				return false
			}
		}
		return true
	}
	return isEmpty(v)
}

func toFloat(v any) (float64, bool) {
	switch t := v.(type) {
	case int64:
		return float64(t), true
	case float64:
		return t, true
	}
	return 0, false
}

// scalarEqual compares two scalars: numbers by value (3 == 3.0), quantities
// (when quantity is set) by amount (0.5 == 500m, 1Gi == 1024Mi).
func scalarEqual(a, b any, quantity bool) bool {
	if isScalar(a) && isScalar(b) && a == b {
		return true
	}
	if fa, ok := toFloat(a); ok {
		if fb, ok := toFloat(b); ok {
			if ia, ok := a.(int64); ok {
				if ib, ok := b.(int64); ok {
					return ia == ib
				}
			}
			return fa == fb
		}
	}
	if quantity {
		qa, oka := toQuantity(a)
		qb, okb := toQuantity(b)
		if oka && okb {
			return qa.Cmp(qb) == 0
		}
	}
	return false
}

func toQuantity(v any) (resource.Quantity, bool) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case int64:
		s = strconv.FormatInt(t, 10)
	case float64:
		s = strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// treeEqual compares two trees with the normalisations of scalarEqual (no
// quantities) and empty == absent inside maps.
func treeEqual(a, b any) bool {
	switch ta := a.(type) {
	case map[string]any:
		tb, ok := b.(map[string]any)
		if !ok {
			return isEmpty(a) && isEmpty(b)
		}
		for k, va := range ta {
			if !treeEqual(va, tb[k]) {
				return false
			}
		}
		for k, vb := range tb {
			if _, ok := ta[k]; !ok && !isEmpty(vb) {
				return false
			}
		}
		return true
	case []any:
		tb, ok := b.([]any)
		if !ok {
			return isEmpty(a) && isEmpty(b)
		}
		if len(ta) != len(tb) {
			return false
		}
		for i := range ta {
			if !treeEqual(ta[i], tb[i]) {
				return false
			}
		}
		return true
	case nil:
		return isEmpty(b)
	case string:
		if ta == "" {
			return isEmpty(b)
		}
	}
	switch b.(type) {
	case map[string]any, []any:
		return false
	case nil:
		return isEmpty(a)
	}
	return scalarEqual(a, b, false)
}

func isScalar(v any) bool {
	switch v.(type) {
	case map[string]any, []any:
		return false
	}
	return true
}

// sortedFields returns the keys of one or more field maps, sorted, each
// once: the walk visits every field either side has. It is not
// slices.Sorted(maps.Keys(m)) because it runs for every map of every
// object Compare walks, and sizing the slice up front saves a fifth of
// Compare's allocations (BenchmarkCompare500: 131k to 109k).
func sortedFields(ms ...map[string]any) []string {
	n := 0
	for _, m := range ms {
		n += len(m)
	}
	keys := make([]string, 0, n)
	for _, m := range ms {
		keys = slices.AppendSeq(keys, maps.Keys(m))
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// decodeBase64 decodes a Secret's or ConfigMap's base64 value (newlines, as
// kustomize wraps long values, are allowed). ok is false when v is not
// valid base64.
func decodeBase64(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// str returns v as a string ("" if it is not one).
func str(v any) string {
	s, _ := v.(string)
	return s
}

func mapAt(v any, keys ...string) map[string]any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		if m == nil {
			return nil
		}
		v = m[k]
	}
	m, _ := v.(map[string]any)
	return m
}

func listAt(v any, keys ...string) []any {
	for _, k := range keys {
		m, _ := v.(map[string]any)
		if m == nil {
			return nil
		}
		v = m[k]
	}
	l, _ := v.([]any)
	return l
}
