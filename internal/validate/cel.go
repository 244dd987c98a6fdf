package validate

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	crdvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// RuleCRDCEL is the rule id of the x-kubernetes-validations (CEL) rules of
// CustomResourceDefinitions.
const RuleCRDCEL = "crd-cel"

// serverRules are what the API server checks of a custom resource beyond
// its OpenAPI schema, for one version of a CRD: the CEL rules of
// x-kubernetes-validations, and the uniqueness of x-kubernetes-list-type
// set and map items. They run the apiextensions-apiserver's own code
// (the version in go.mod) on the object as the API server sees it:
// defaulted and pruned by the structural schema.
type serverRules struct {
	structural *structuralschema.Structural
	// cel is nil when the schema has no CEL rules.
	cel *cel.Validator
	// transition lists the rules that compare with the stored object
	// (oldSelf) and so are not run on create; results say so.
	transition []string
}

// needsServerRules reports whether a CRD schema has anything serverRules
// checks, so that CRDs without them cost nothing more than before.
func needsServerRules(schema map[string]any) bool {
	found := false
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if k == "x-kubernetes-validations" {
					found = true
					return
				}
				if k == "x-kubernetes-list-type" && (e == "set" || e == "map") {
					found = true
					return
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(schema)
	return found
}

// checkCRDRules runs the API server's validation of a
// CustomResourceDefinition (apiextensions.k8s.io/v1) and returns its
// findings about x-kubernetes-validations: rules and messageExpressions
// that do not compile, estimated costs over the limits, bad fieldPaths.
// The rest of what the API server would refuse in a CRD is not envctl's
// to report (the CRD's own schema check does that).
func checkCRDRules(obj map[string]any) ([]string, *apiextensions.CustomResourceDefinition, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, nil, err
	}
	var v1 apiextensionsv1.CustomResourceDefinition
	if err := json.Unmarshal(data, &v1); err != nil {
		return nil, nil, fmt.Errorf("not a CustomResourceDefinition: %v", err)
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&v1)
	var crd apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&v1, &crd, nil); err != nil {
		return nil, nil, err
	}
	var problems []string
	for _, e := range crdvalidation.ValidateCustomResourceDefinition(context.Background(), &crd) {
		if !strings.Contains(e.Field, "x-kubernetes-validations") {
			continue
		}
		// The internal CRD holds a schema shared by every version under
		// spec.validation; name it as the user wrote it.
		f := strings.Replace(e.Field, "spec.validation.openAPIV3Schema", "spec.versions[*].schema.openAPIV3Schema", 1)
		problems = append(problems, f+": "+e.ErrorBody())
	}
	return problems, &crd, nil
}

// newServerRules builds the rules of one version of a converted CRD; nil
// when the version has no schema.
func newServerRules(crd *apiextensions.CustomResourceDefinition, version string) (*serverRules, error) {
	val, err := apiextensions.GetSchemaForVersion(crd, version)
	if err != nil || val == nil || val.OpenAPIV3Schema == nil {
		return nil, err
	}
	s, err := structuralschema.NewStructural(val.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("not a structural schema, which x-kubernetes-validations and list types need: %v", err)
	}
	// As the API server serves custom resources (customresource_handler.go).
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, err
	}
	r := &serverRules{structural: s, cel: cel.NewValidator(s, true, celconfig.PerCallLimit)}
	r.transition = transitionRules(val.OpenAPIV3Schema, nil)
	return r, nil
}

var oldSelfRe = regexp.MustCompile(`\boldSelf\b`)

// transitionRules lists the rules that use oldSelf without
// optionalOldSelf: the API server runs them on updates only.
func transitionRules(s *apiextensions.JSONSchemaProps, path *field.Path) []string {
	if s == nil {
		return nil
	}
	var out []string
	for _, r := range s.XValidations {
		if oldSelfRe.MatchString(r.Rule) && (r.OptionalOldSelf == nil || !*r.OptionalOldSelf) {
			where := "(root)"
			if path != nil {
				where = path.String()
			}
			out = append(out, fmt.Sprintf("%s: transition rule not checked (it compares with the stored object, and a new object has none): %s", where, r.Rule))
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		p := s.Properties[name]
		out = append(out, transitionRules(&p, path.Child(name))...)
	}
	if s.Items != nil {
		out = append(out, transitionRules(s.Items.Schema, path.Index(-1))...)
	}
	if s.AdditionalProperties != nil {
		out = append(out, transitionRules(s.AdditionalProperties.Schema, path.Key("*"))...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// check runs the rules on a custom resource. schemaProblems are the
// findings of its OpenAPI schema: the API server does not run CEL rules
// on an object that fails its schema in a way that could make a rule
// misbehave (wrong types, missing required fields, too long or too many
// values), and neither does envctl; notes say so.
func (r *serverRules) check(ctx context.Context, obj map[string]any, schemaProblems []Problem) (problems []Problem, notes []string) {
	// Defaulting and pruning change the object; the original stays as
	// the user wrote it for the other checks and the messages.
	u := copyJSON(obj).(map[string]any)
	structuraldefaulting.Default(u, r.structural)
	structuralpruning.Prune(u, r.structural, true)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u, r.structural)

	for _, e := range structurallisttype.ValidateListSetsAndMaps(nil, r.structural, u) {
		problems = append(problems, Problem{Rule: RuleCRDSchema, Path: fieldToPointer(e.Field), Message: e.ErrorBody()})
	}
	if r.cel == nil {
		return problems, nil
	}
	for _, p := range schemaProblems {
		if blocksCEL[p.keyword] {
			return problems, []string{"x-kubernetes-validations rules not checked: the object fails its schema (as the API server, envctl runs them on objects of the right shape only)"}
		}
	}
	errs, _ := r.cel.Validate(ctx, nil, r.structural, u, nil, celconfig.RuntimeCELCostBudget)
	for _, e := range errs {
		problems = append(problems, Problem{Rule: RuleCRDCEL, Path: fieldToPointer(e.Field), Message: celMessage(e)})
	}
	return problems, r.transition
}

// blocksCEL are the schema keywords whose failures the API server reports
// as errors that stop CEL rules (customresource.hasBlockingErr: not
// supported, required, too long, too many, wrong type).
var blocksCEL = map[string]bool{
	"type": true, "enum": true, "const": true, "required": true,
	"maxLength": true, "maxItems": true, "maxProperties": true,
}

// celMessage is the message of a failed rule: its message or
// messageExpression, or "failed rule: RULE", as the API server prints it
// after the field.
func celMessage(e *field.Error) string {
	switch e.Type {
	case field.ErrorTypeInvalid:
		return e.Detail
	case field.ErrorTypeInternal:
		return "internal error: " + e.Detail
	}
	return e.ErrorBody()
}

// fieldToPointer turns a field path of the API server's errors
// ("spec.ports[0]", `metadata.labels[app.kubernetes.io/name]`, "<nil>"
// for the root) into a JSON pointer.
func fieldToPointer(f string) string {
	if f == "<nil>" || f == "" || f == "[]" {
		// "[]" is field.NewPath(""): the whole object.
		return ""
	}
	var segs []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			segs = append(segs, cur.String())
			cur.Reset()
		}
	}
	for i := 0; i < len(f); i++ {
		switch c := f[i]; c {
		case '.':
			flush()
		case '[':
			flush()
			end := strings.IndexByte(f[i:], ']')
			if end < 0 {
				cur.WriteString(f[i:])
				i = len(f)
				continue
			}
			segs = append(segs, f[i+1:i+end])
			i += end
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return joinPointer(segs...)
}

// copyJSON deep-copies a decoded object into the values the API server
// decodes JSON into (int64 and float64 numbers), for CEL.
func copyJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = copyJSON(e)
		}
		return m
	case []any:
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = copyJSON(e)
		}
		return s
	case uint64:
		return float64(v)
	case int:
		return int64(v)
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return f
	}
	return v
}
