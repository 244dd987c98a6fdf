package translate

import "sort"

// Schema-valued keywords of draft 2020-12, by the shape of their value.
var (
	schemaKeywords = []string{"items", "additionalProperties", "not", "if", "then", "else",
		"contains", "propertyNames", "unevaluatedProperties", "unevaluatedItems", "additionalItems"}
	schemaListKeywords = []string{"allOf", "anyOf", "oneOf", "prefixItems"}
	schemaMapKeywords  = []string{"properties", "patternProperties", "$defs", "dependentSchemas"}
)

// Transform returns a deep copy of the schema s in which f has been called
// on every schema object (the root and every subschema, children before
// their parent). f may change the map it is given, which is a copy.
func Transform(s any, f func(m map[string]any)) any {
	m, ok := s.(map[string]any)
	if !ok {
		return s // a boolean schema
	}
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	for _, k := range schemaKeywords {
		if v, ok := out[k]; ok {
			out[k] = Transform(v, f)
		}
	}
	for _, k := range schemaListKeywords {
		if l, ok := out[k].([]any); ok {
			nl := make([]any, len(l))
			for i, e := range l {
				nl[i] = Transform(e, f)
			}
			out[k] = nl
		}
	}
	for _, k := range schemaMapKeywords {
		if pm, ok := out[k].(map[string]any); ok {
			nm := make(map[string]any, len(pm))
			for pk, pv := range pm {
				nm[pk] = Transform(pv, f)
			}
			out[k] = nm
		}
	}
	f(out)
	return out
}

// Close is strict mode: it returns a copy of s in which every object schema
// that lists properties and says nothing about others (no
// additionalProperties, no unevaluatedProperties) rejects unknown
// properties with "additionalProperties": false. That is what the API
// server's strict field validation (kubectl --validate=strict, the
// default) reports as "unknown field". Objects that
// x-kubernetes-preserve-unknown-fields keeps open were translated with
// "additionalProperties": true and stay open; maps (additionalProperties
// with a schema) and free-form objects (no properties) are untouched.
//
// Closing with additionalProperties rather than unevaluatedProperties is
// correct because the translated Kubernetes schemas never spread one
// object's properties over several subschemas (allOf is only used to wrap
// a single $ref, and that wrapper is removed).
func Close(s any) any {
	return Transform(s, CloseObject)
}

// CloseObject applies Close's rule to one schema object, in place (not to
// its subschemas).
func CloseObject(m map[string]any) {
	if _, ok := m["properties"]; !ok {
		return
	}
	if _, ok := m["additionalProperties"]; ok {
		return
	}
	if _, ok := m["unevaluatedProperties"]; ok {
		return
	}
	m["additionalProperties"] = false
}

// Refs returns the sorted, distinct "$ref" values in s.
func Refs(s any) []string {
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				seen[r] = true
			}
			for _, k := range schemaKeywords {
				if e, ok := v[k]; ok {
					walk(e)
				}
			}
			for _, k := range schemaListKeywords {
				if l, ok := v[k].([]any); ok {
					for _, e := range l {
						walk(e)
					}
				}
			}
			for _, k := range schemaMapKeywords {
				if pm, ok := v[k].(map[string]any); ok {
					for _, e := range pm {
						walk(e)
					}
				}
			}
		}
	}
	walk(s)
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}
