// Package translate turns Kubernetes OpenAPI v3 schemas (the documents
// kube-apiserver serves under /openapi/v3, and that the kubernetes
// repository keeps in api/openapi-spec/v3) into JSON Schema draft 2020-12
// that a general-purpose validator such as
// github.com/santhosh-tekuri/jsonschema judges the way the API server does.
//
// Schemas are handled as decoded JSON: map[string]any, []any, string, bool,
// float64 or json.Number, nil. Nothing here mutates its input.
//
// What the translation does, and why:
//
//   - "$ref": "#/components/schemas/NAME" becomes "#/$defs/NAME"
//     (configurable with Translator.RefPrefix).
//   - "allOf": [{"$ref": ...}] wrappers, which OpenAPI v3 needs to attach a
//     default or description to a reference, are unwrapped to the bare
//     reference; descriptions, defaults, examples and the x-kubernetes-*
//     annotations that do not constrain a value on its own are dropped
//     (list and map types, merge strategies, unions, and CEL rules in
//     x-kubernetes-validations, which a JSON Schema validator cannot run).
//   - format int32 / int64 become minimum/maximum: the API server's decoder
//     rejects numbers that overflow the Go field. format byte (a []byte
//     field, e.g. Secret data) becomes a pattern that accepts exactly what
//     Go's base64.StdEncoding accepts (padded, CR/LF ignored). format
//     date-time is kept (register Formats with the validator for
//     metav1.Time's exact parse); formats that add nothing to the type
//     (double, int-or-string) are dropped, others kept.
//     Format is expressed as plain keywords where possible so that
//     validators that treat "format" as an annotation (draft 2020-12
//     default) judge the same.
//   - IntOrString and Quantity become type unions: ["integer","string"]
//     (with int32 bounds) and ["string","number"] (with a pattern that
//     matches resource.ParseQuantity's grammar); Time and MicroTime get a
//     pattern for the shape Go's time.Parse accepts besides their
//     date-time format.
//   - x-kubernetes-int-or-string: true accepts an integer or a string.
//   - x-kubernetes-preserve-unknown-fields: true sets additionalProperties
//     to true where the schema lists properties, so that strict mode
//     (see Close) leaves that object open.
//   - x-kubernetes-embedded-resource: true requires apiVersion and kind
//     (non-empty strings) and allows metadata, as the apiextensions
//     apiserver does.
//   - nullable: true, and every property that is not required, also
//     accepts null: the API server decodes null into the zero value of an
//     optional field (kubectl and kustomize emit creationTimestamp: null),
//     while a required field that is null is still missing.
//   - exclusiveMinimum/exclusiveMaximum booleans (OpenAPI 3.0) become the
//     numeric draft 2020-12 form.
//
// Strictness (unknown fields are errors) is not baked in: Close applies it
// to a translated schema, so that one bundle serves both modes.
package translate

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
)

// Well-known definition names in the Kubernetes OpenAPI documents.
const (
	QuantityName    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	IntOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	TimeName        = "io.k8s.apimachinery.pkg.apis.meta.v1.Time"
	MicroTimeName   = "io.k8s.apimachinery.pkg.apis.meta.v1.MicroTime"
)

// TimePattern is the shape of the strings metav1.Time accepts
// (time.Parse with time.RFC3339: upper-case T and Z, a fraction after a
// '.' or a ','). The pattern checks the shape, "format": "date-time" the
// calendar; a validator that treats format as an annotation (kubeconform
// with draft 2020-12) still catches a value that is not a time at all.
const TimePattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:[.,][0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})$`

// MicroTimePattern is the shape metav1.MicroTime accepts (RFC 3339 with
// exactly six fractional digits).
const MicroTimePattern = `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.,][0-9]{6}(?:Z|[+-][0-9]{2}:[0-9]{2})$`

// OpenAPIRefPrefix is where OpenAPI v3 documents keep their schemas.
const OpenAPIRefPrefix = "#/components/schemas/"

// DefsRefPrefix is where the translated schemas are referenced from.
const DefsRefPrefix = "#/$defs/"

// Base64Pattern matches exactly the strings that Go's
// base64.StdEncoding.DecodeString accepts once '\r' and '\n' are ignored,
// which is how encoding/json (and sigs.k8s.io/json, used by the API server)
// decodes a []byte field.
const Base64Pattern = `^[\r\n]*(?:` + b64c + b64c + b64c + b64c + `)*(?:` + b64c + b64c + `=[\r\n]*=|` + b64c + b64c + b64c + `=)?[\r\n]*$`

const b64c = `[A-Za-z0-9+/][\r\n]*`

// QuantityPattern matches the strings that resource.ParseQuantity accepts
// after strings.TrimSpace (as Quantity.UnmarshalJSON does): an optional
// sign, digits with an optional fraction, and an optional suffix (decimal
// SI, binary SI or a decimal exponent). ParseQuantity accepts degenerate
// forms such as "+", "." or "Ki" (all zero), and so does this.
const QuantityPattern = `^\s*(?:[+-]` + qNum0 + qSuf + `?|` + qNum1 + qSuf + `?|` + qSuf + `)\s*$`

const (
	qNum0 = `[0-9]*(?:\.[0-9]*)?`              // may be empty
	qNum1 = `(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]*)` // not empty
	qSuf  = `(?:[numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)`
)

// Integer bounds of the formats the API server's Go types enforce.
const (
	MinInt32 = math.MinInt32
	MaxInt32 = math.MaxInt32
	MinInt64 = math.MinInt64
	MaxInt64 = math.MaxInt64
)

// Translator translates the schemas of one OpenAPI document (or of a set of
// documents that share definition names).
type Translator struct {
	// RefPrefix is the prefix of "$ref" values in the input; references
	// are rewritten to DefsRefPrefix + name. Defaults to OpenAPIRefPrefix.
	RefPrefix string

	// Inline maps definition names to translated schemas that are copied
	// in place of references to them (small leaf definitions such as
	// Time or Quantity: inlining gives plain type unions, so allowing
	// null does not need a conditional, and messages name the type).
	Inline map[string]map[string]any
}

// Definition translates a named definition. Well-known Kubernetes types
// whose OpenAPI form is loose (IntOrString, Quantity) get their exact
// form.
func (t *Translator) Definition(name string, s map[string]any) (map[string]any, error) {
	switch name {
	case IntOrStringName:
		// intstr.IntOrString holds an int32 or a string.
		return map[string]any{
			"type":    []any{"integer", "string"},
			"minimum": int64(MinInt32),
			"maximum": int64(MaxInt32),
		}, nil
	case QuantityName:
		return map[string]any{
			"type":    []any{"string", "number"},
			"pattern": QuantityPattern,
		}, nil
	case TimeName:
		return map[string]any{"type": "string", "format": "date-time", "pattern": TimePattern}, nil
	case MicroTimeName:
		return map[string]any{"type": "string", "format": "date-time", "pattern": MicroTimePattern}, nil
	}
	return t.Schema(s)
}

// Schema translates one schema.
func (t *Translator) Schema(in map[string]any) (map[string]any, error) {
	out, err := t.schema(in, "")
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (t *Translator) refPrefix() string {
	if t.RefPrefix == "" {
		return OpenAPIRefPrefix
	}
	return t.RefPrefix
}

// keywords copied as they are (their values are not schemas).
var plainKeywords = map[string]bool{
	"type": true, "enum": true, "const": true, "pattern": true,
	"minLength": true, "maxLength": true, "minimum": true, "maximum": true,
	"multipleOf": true, "minItems": true, "maxItems": true,
	"uniqueItems": true, "minProperties": true, "maxProperties": true,
	"required": true,
}

// keywords dropped: annotations, and Kubernetes extensions that do not
// constrain a single object's value (merge strategies, list and map
// types, unions, CEL rules that a JSON Schema validator cannot run).
var dropKeywords = map[string]bool{
	"description": true, "default": true, "example": true, "title": true,
	"externalDocs": true, "readOnly": true, "writeOnly": true,
	"deprecated": true, "discriminator": true, "xml": true,
	"x-kubernetes-list-type": true, "x-kubernetes-list-map-keys": true,
	"x-kubernetes-map-type": true, "x-kubernetes-patch-strategy": true,
	"x-kubernetes-patch-merge-key": true, "x-kubernetes-unions": true,
	"x-kubernetes-group-version-kind": true, "x-kubernetes-validations": true,
	"x-kubernetes-selectable-fields": true,
}

func (t *Translator) schema(in map[string]any, at string) (map[string]any, error) {
	if in == nil {
		return map[string]any{}, nil
	}
	in = unwrapAllOfRef(in)

	out := map[string]any{}
	var (
		nullable, preserve, embedded, intOrString bool
		format                                    string
		exclMin, exclMax                          bool
	)
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v := in[k]
		switch {
		case plainKeywords[k]:
			out[k] = v
		case dropKeywords[k]:
		case k == "$ref":
			ref, ok := v.(string)
			if !ok {
				return nil, fmt.Errorf("%s: $ref is %T, not a string", at, v)
			}
			name, ok := strings.CutPrefix(ref, t.refPrefix())
			if !ok {
				return nil, fmt.Errorf("%s: $ref %q does not start with %q", at, ref, t.refPrefix())
			}
			if inl, ok := t.Inline[name]; ok {
				for ik, iv := range deepCopy(inl).(map[string]any) {
					out[ik] = iv
				}
			} else {
				out["$ref"] = DefsRefPrefix + name
			}
		case k == "properties":
			props, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: properties is %T", at, v)
			}
			req := map[string]bool{}
			if r, ok := in["required"].([]any); ok {
				for _, n := range r {
					if s, ok := n.(string); ok {
						req[s] = true
					}
				}
			}
			op := make(map[string]any, len(props))
			for _, pn := range slices.Sorted(maps.Keys(props)) {
				ps, ok := props[pn].(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s/properties/%s: schema is %T", at, pn, props[pn])
				}
				ts, err := t.schema(ps, at+"/properties/"+pn)
				if err != nil {
					return nil, err
				}
				if !req[pn] {
					ts = AllowNull(ts)
				}
				op[pn] = ts
			}
			out["properties"] = op
		case k == "patternProperties", k == "dependentSchemas", k == "$defs", k == "definitions":
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s is %T", at, k, v)
			}
			om := make(map[string]any, len(m))
			for _, pn := range slices.Sorted(maps.Keys(m)) {
				ps, ok := m[pn].(map[string]any)
				if !ok {
					return nil, fmt.Errorf("%s/%s/%s: schema is %T", at, k, pn, m[pn])
				}
				ts, err := t.schema(ps, at+"/"+k+"/"+pn)
				if err != nil {
					return nil, err
				}
				om[pn] = ts
			}
			if k == "definitions" {
				k = "$defs"
			}
			out[k] = om
		case k == "items":
			switch iv := v.(type) {
			case map[string]any:
				ts, err := t.schema(iv, at+"/items")
				if err != nil {
					return nil, err
				}
				out["items"] = ts
			case []any: // JSONSchemaPropsOrArray: a tuple
				arr, err := t.schemaList(iv, at+"/items")
				if err != nil {
					return nil, err
				}
				out["prefixItems"] = arr
			case bool:
				out["items"] = iv
			default:
				return nil, fmt.Errorf("%s: items is %T", at, v)
			}
		case k == "additionalProperties", k == "additionalItems", k == "not", k == "propertyNames", k == "contains":
			switch sv := v.(type) {
			case bool:
				out[k] = sv
			case map[string]any:
				ts, err := t.schema(sv, at+"/"+k)
				if err != nil {
					return nil, err
				}
				out[k] = ts
			default:
				return nil, fmt.Errorf("%s: %s is %T", at, k, v)
			}
		case k == "allOf", k == "anyOf", k == "oneOf":
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("%s: %s is %T", at, k, v)
			}
			arr, err := t.schemaList(list, at+"/"+k)
			if err != nil {
				return nil, err
			}
			out[k] = arr
		case k == "format":
			format, _ = v.(string)
		case k == "nullable":
			nullable = v == true
		case k == "exclusiveMinimum":
			if b, ok := v.(bool); ok {
				exclMin = b
			} else {
				out[k] = v
			}
		case k == "exclusiveMaximum":
			if b, ok := v.(bool); ok {
				exclMax = b
			} else {
				out[k] = v
			}
		case k == "x-kubernetes-preserve-unknown-fields":
			preserve = v == true
		case k == "x-kubernetes-embedded-resource":
			embedded = v == true
		case k == "x-kubernetes-int-or-string":
			intOrString = v == true
		default:
			// Other OpenAPI-only keywords and unknown extensions carry
			// no constraint the API server applies from the schema.
		}
	}

	if exclMin {
		if m, ok := out["minimum"]; ok {
			out["exclusiveMinimum"] = m
			delete(out, "minimum")
		}
	}
	if exclMax {
		if m, ok := out["maximum"]; ok {
			out["exclusiveMaximum"] = m
			delete(out, "maximum")
		}
	}

	switch format {
	case "int32":
		setBound(out, "minimum", MinInt32, false)
		setBound(out, "maximum", MaxInt32, true)
	case "int64":
		setBound(out, "minimum", MinInt64, false)
		setBound(out, "maximum", MaxInt64, true)
	case "byte":
		if _, ok := out["pattern"]; !ok {
			out["pattern"] = Base64Pattern
		}
	case "date-time":
		out["format"] = "date-time"
	case "", "int-or-string", "double", "float":
	default:
		// Other formats (CRD schemas use kube-openapi's strfmt names) are
		// kept; a validator asserts only the formats it knows.
		out["format"] = format
	}

	if intOrString {
		out["type"] = []any{"integer", "string"}
		// The CRD idiom spells the alternatives out too; they add nothing.
		for _, k := range []string{"anyOf", "oneOf"} {
			if isTypeAlternatives(out[k], "integer", "string") {
				delete(out, k)
			}
		}
	}
	simplifyTypeOneOf(out)

	if embedded {
		out["type"] = "object"
		props, _ := out["properties"].(map[string]any)
		if props == nil {
			props = map[string]any{}
		}
		for _, n := range []string{"apiVersion", "kind"} {
			p, _ := props[n].(map[string]any)
			if p == nil {
				p = map[string]any{"type": "string"}
			} else {
				p = maps.Clone(p)
			}
			p["minLength"] = 1
			props[n] = p
		}
		if _, ok := props["metadata"]; !ok {
			props["metadata"] = AllowNull(map[string]any{"type": "object"})
		}
		out["properties"] = props
		req := stringList(out["required"])
		for _, n := range []string{"apiVersion", "kind"} {
			if !slices.Contains(req, n) {
				req = append(req, n)
			}
		}
		out["required"] = toAnyList(req)
	}

	if preserve {
		if _, ok := out["additionalProperties"]; !ok {
			if _, ok := out["properties"]; ok {
				out["additionalProperties"] = true
			} else if out["type"] == "object" && !embedded {
				// An object with no listed properties is already open;
				// say so explicitly so that Close never closes it.
				out["additionalProperties"] = true
			}
		}
		if embedded {
			out["additionalProperties"] = true
		}
	}

	if nullable {
		out = AllowNull(out)
	}
	return out, nil
}

func (t *Translator) schemaList(list []any, at string) ([]any, error) {
	arr := make([]any, 0, len(list))
	for i, e := range list {
		es, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s/%d: schema is %T", at, i, e)
		}
		ts, err := t.schema(es, fmt.Sprintf("%s/%d", at, i))
		if err != nil {
			return nil, err
		}
		arr = append(arr, ts)
	}
	return arr, nil
}

// unwrapAllOfRef turns {"allOf":[{"$ref":R}], "default":..., ...} into
// {"$ref":R, ...}: in OpenAPI v3 (and draft 4) a $ref's siblings are
// ignored, so the wrapper is how kube-openapi attaches a default or a
// description to a reference.
func unwrapAllOfRef(in map[string]any) map[string]any {
	all, ok := in["allOf"].([]any)
	if !ok || len(all) != 1 {
		return in
	}
	inner, ok := all[0].(map[string]any)
	if !ok || len(inner) != 1 || inner["$ref"] == nil {
		return in
	}
	if _, has := in["$ref"]; has {
		return in
	}
	out := maps.Clone(in)
	delete(out, "allOf")
	out["$ref"] = inner["$ref"]
	return out
}

func setBound(out map[string]any, k string, bound int64, isMax bool) {
	if t, ok := out["type"]; ok {
		// Bounds only matter for numbers; keep schemas of other types
		// free of them.
		ts := typeList(t)
		if !slices.Contains(ts, "integer") && !slices.Contains(ts, "number") {
			return
		}
	}
	if cur, ok := out[k]; ok {
		c, ok := toFloat(cur)
		if ok && ((isMax && c <= float64(bound)) || (!isMax && c >= float64(bound))) {
			return // already tighter
		}
	}
	out[k] = bound
}

// simplifyTypeOneOf turns {"oneOf":[{"type":A},{"type":B}]} into
// {"type":[A,B]} when the alternatives cannot overlap: same meaning,
// plainer messages.
func simplifyTypeOneOf(out map[string]any) {
	for _, k := range []string{"oneOf", "anyOf"} {
		list, ok := out[k].([]any)
		if !ok || len(list) < 2 {
			continue
		}
		if _, has := out["type"]; has {
			continue
		}
		var types []any
		seen := map[string]bool{}
		for _, e := range list {
			m, ok := e.(map[string]any)
			if !ok || len(m) != 1 {
				return
			}
			ty, ok := m["type"].(string)
			if !ok || seen[ty] {
				return
			}
			seen[ty] = true
			types = append(types, ty)
		}
		if k == "oneOf" && seen["integer"] && seen["number"] {
			return // an integer matches both: oneOf would reject it
		}
		delete(out, k)
		out["type"] = types
	}
}

func isTypeAlternatives(v any, types ...string) bool {
	list, ok := v.([]any)
	if !ok || len(list) != len(types) {
		return false
	}
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok || len(m) != 1 {
			return false
		}
		ty, _ := m["type"].(string)
		if !slices.Contains(types, ty) {
			return false
		}
	}
	return true
}

// AllowNull returns s changed to also accept null. A schema with a type
// gets "null" added to it (and to its enum); one whose meaning comes from
// a reference or a combinator gets a conditional
// {"if":{"type":"null"},"else":s}, so that for non-null values the
// messages are those of s. s is not modified.
func AllowNull(s map[string]any) map[string]any {
	if len(s) == 0 {
		return s // accepts anything already
	}
	if isNullConditional(s) {
		return s
	}
	if !TypedNull(s) {
		return map[string]any{"if": map[string]any{"type": "null"}, "else": s}
	}
	out := maps.Clone(s)
	if t, ok := out["type"]; ok {
		ts := typeList(t)
		if !slices.Contains(ts, "null") {
			ts = append(ts, "null")
		}
		out["type"] = toAnyList(ts)
	}
	if e, ok := out["enum"].([]any); ok && !slices.Contains(e, nil) {
		out["enum"] = append(slices.Clone(e), nil)
	}
	return out
}

// TypedNull says whether AllowNull accepts null in s by its type and
// enum, rather than with a conditional around it.
func TypedNull(s map[string]any) bool {
	for _, k := range []string{"$ref", "allOf", "anyOf", "oneOf", "not", "const", "if", "$dynamicRef"} {
		if _, ok := s[k]; ok {
			return false
		}
	}
	return true
}

// NullableRef returns R when s is what AllowNull made of a bare
// reference, {"if": {"type": "null"}, "else": {"$ref": R}}.
func NullableRef(s map[string]any) (string, bool) {
	if !isNullConditional(s) {
		return "", false
	}
	e, _ := s["else"].(map[string]any)
	r, ok := e["$ref"].(string)
	return r, ok && len(e) == 1
}

func isNullConditional(s map[string]any) bool {
	if len(s) != 2 || s["else"] == nil {
		return false
	}
	c, ok := s["if"].(map[string]any)
	return ok && len(c) == 1 && c["type"] == "null"
}

func typeList(t any) []string {
	switch t := t.(type) {
	case string:
		return []string{t}
	case []any:
		return stringList(t)
	case []string:
		return slices.Clone(t)
	}
	return nil
}

func stringList(v any) []string {
	var out []string
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = slices.Clone(v)
	}
	return out
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func toFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case interface{ Float64() (float64, error) }:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}
