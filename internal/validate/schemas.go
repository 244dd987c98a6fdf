package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	"k8s.io/kube-openapi/pkg/validation/strfmt"

	"github.com/envctl/envctl/internal/k8sschema"
	"github.com/envctl/envctl/internal/k8sschema/translate"
)

// Rule ids of the schema checks.
const (
	RuleKubernetesSchema = "kubernetes-schema"
	RuleCRDSchema        = "crd-schema"
)

type gvk struct{ apiVersion, kind string }

// crdSchema is the compiled schema of one version of a CRD.
type crdSchema struct {
	schema *jsonschema.Schema
	// rules are the API server's checks beyond the schema (CEL rules,
	// list types); nil when the schema has none.
	rules *serverRules
	crd   string // the CRD's name, for messages
	from  string // where the CRD came from: a file, or "environment prod"
}

// crdSchemas holds the schemas of CustomResourceDefinitions by the
// apiVersion/kind of their custom resources.
type crdSchemas map[gvk]crdSchema

// supportedCRDFormats are the formats the apiextensions API server checks
// (k8s.io/apiextensions-apiserver/pkg/apiserver/validation/formats.go);
// it drops every other format from CRD schemas, and so does envctl.
var supportedCRDFormats = []string{
	"bsonobjectid", "uri", "email", "hostname", "ipv4", "ipv6", "cidr", "mac",
	"uuid", "uuid3", "uuid4", "uuid5", "isbn", "isbn10", "isbn13", "creditcard",
	"ssn", "hexcolor", "rgbcolor", "byte", "password", "date", "duration",
	"datetime", "date-time", "k8s-short-name", "k8s-long-name",
}

func newCRDCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	// Formats jsonschema knows but the API server ignores must not be
	// asserted.
	for name := range jsonschema.Formats {
		c.Formats[name] = func(any) bool { return true }
	}
	for _, name := range supportedCRDFormats {
		c.Formats[name] = func(v any) bool {
			s, ok := v.(string)
			return !ok || strfmt.Default.Validates(name, s)
		}
	}
	for name, f := range translate.Formats {
		c.Formats[name] = f
	}
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		return nil, fmt.Errorf("a CRD schema cannot load %s", u)
	}
	return c
}

// addCRD compiles the schemas of a CustomResourceDefinition object into
// s. from says where the CRD came from, for messages.
func (s crdSchemas) addCRD(obj map[string]any, strict bool, from string) error {
	c, err := compileCRD(obj, strict, from)
	if err != nil {
		return err
	}
	maps.Copy(s, c)
	return nil
}

// compileCRD compiles the schemas of a CustomResourceDefinition object,
// one per version. It shares nothing, so CRDs compile in parallel.
func compileCRD(obj map[string]any, strict bool, from string) (crdSchemas, error) {
	s := crdSchemas{}
	name := stringAt(obj, "metadata", "name")
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: CustomResourceDefinition %s: %s", from, name, fmt.Sprintf(format, args...))
	}
	spec, _ := obj["spec"].(map[string]any)
	group, _ := spec["group"].(string)
	kind := stringAt(obj, "spec", "names", "kind")
	if group == "" || kind == "" {
		return nil, fail("spec.group and spec.names.kind are required")
	}
	versions, _ := spec["versions"].([]any)
	// apiextensions.k8s.io/v1beta1 had one schema for every version.
	shared, _ := mapAt(spec, "validation", "openAPIV3Schema")
	if len(versions) == 0 {
		if v, _ := spec["version"].(string); v != "" {
			versions = []any{map[string]any{"name": v}}
		}
	}
	if len(versions) == 0 {
		return nil, fail("spec.versions is empty")
	}
	// CEL rules and list types are checked with the API server's code,
	// which works on the CRD as the API server holds it.
	var internal *apiextensions.CustomResourceDefinition
	if apiVersion, _ := obj["apiVersion"].(string); apiVersion == "apiextensions.k8s.io/v1" && needsServerRules(spec) {
		problems, crd, err := checkCRDRules(obj)
		if err != nil {
			return nil, fail("%v", err)
		}
		if len(problems) > 0 {
			return nil, fail("%s", strings.Join(problems, "; "))
		}
		internal = crd
	}
	for i, ve := range versions {
		vm, _ := ve.(map[string]any)
		vname, _ := vm["name"].(string)
		if vname == "" {
			return nil, fail("spec.versions[%d].name is required", i)
		}
		schema, ok := mapAt(vm, "schema", "openAPIV3Schema")
		if !ok {
			schema, ok = shared, shared != nil
		}
		if !ok {
			return nil, fail("version %s has no schema (spec.versions[%d].schema.openAPIV3Schema)", vname, i)
		}
		sch, err := compileCRDSchema(schema, strict, group+"/"+vname+"/"+kind)
		if err != nil {
			return nil, fail("version %s: spec.versions[%d].schema.openAPIV3Schema: %v", vname, i, err)
		}
		cs := crdSchema{schema: sch, crd: name, from: from}
		if internal != nil {
			if cs.rules, err = newServerRules(internal, vname); err != nil {
				return nil, fail("version %s: spec.versions[%d].schema.openAPIV3Schema: %v", vname, i, err)
			}
		}
		s[gvk{group + "/" + vname, kind}] = cs
	}
	return s, nil
}

func compileCRDSchema(openAPI map[string]any, strict bool, id string) (*jsonschema.Schema, error) {
	var tr translate.Translator
	t, err := tr.Schema(openAPI)
	if err != nil {
		return nil, err
	}
	// Every custom resource has apiVersion, kind and metadata, whether
	// the CRD's schema lists them or not (the API server adds them).
	if props, ok := t["properties"].(map[string]any); ok {
		props = maps.Clone(props)
		for name, s := range map[string]map[string]any{
			"apiVersion": {"type": "string"},
			"kind":       {"type": "string"},
			"metadata":   {"type": "object"},
		} {
			if _, listed := props[name]; !listed {
				props[name] = s
			}
		}
		t = maps.Clone(t)
		t["properties"] = props
	}
	var doc any = t
	if strict {
		doc = translate.Close(doc)
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	c := newCRDCompiler()
	u := "crd:///" + url.PathEscape(id) + ".json"
	if err := c.AddResource(u, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	sch, err := c.Compile(u)
	if err != nil {
		return nil, schemaCompileError(err)
	}
	return sch, nil
}

// schemaCompileError rewords jsonschema's compile errors ("jsonschema
// crd:///x compilation failed: jsonschema: '/properties/a/type' does not
// validate with https://...#/...: value must be one of ...") without its
// internal URLs.
func schemaCompileError(err error) error {
	var se *jsonschema.SchemaError
	if !errors.As(err, &se) {
		return err
	}
	var ve *jsonschema.ValidationError
	if errors.As(se.Err, &ve) {
		var msgs []string
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			if len(e.Causes) == 0 {
				loc := e.InstanceLocation
				if loc == "" {
					loc = "/"
				}
				msgs = append(msgs, loc+": "+e.Message)
			}
			for _, c := range e.Causes {
				walk(c)
			}
		}
		walk(ve)
		return fmt.Errorf("not a valid JSON Schema: %s", strings.Join(msgs, "; "))
	}
	if se.Err != nil {
		return fmt.Errorf("not a valid JSON Schema: %s", strings.TrimPrefix(se.Err.Error(), "jsonschema: "))
	}
	return err
}

// schemaFor finds the schema of an object's kind: Kubernetes first, then
// the environment's CRDs, then the repository's.
func schemaFor(kube *k8sschema.Set, crdSets []crdSchemas, apiVersion, kind string) (*jsonschema.Schema, *serverRules, string, error) {
	sch, found, err := kube.Schema(apiVersion, kind)
	if err != nil {
		return nil, nil, "", err
	}
	if found {
		return sch, nil, RuleKubernetesSchema, nil
	}
	for _, s := range crdSets {
		if c, ok := s[gvk{apiVersion, kind}]; ok {
			return c.schema, c.rules, RuleCRDSchema, nil
		}
	}
	return nil, nil, "", nil
}

// violations turns a validation error into problems of a rule.
func violations(err error, rule string) []Problem {
	var out []Problem
	for _, v := range k8sschema.Violations(err) {
		if v.Keyword == "enum" {
			// Optional fields accept null; the schema's enum says so.
			v.Message = strings.Replace(strings.Replace(v.Message, ", <nil>", "", 1), "<nil>, ", "", 1)
		}
		out = append(out, Problem{Rule: rule, Path: unescapeURLPointer(v.Path), Message: v.Message, keyword: v.Keyword})
	}
	return out
}

// unescapeURLPointer undoes jsonschema/v5's URL escaping of instance
// locations ("a%20b" for a key "a b").
func unescapeURLPointer(p string) string {
	if !strings.Contains(p, "%") {
		return p
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if u, err := url.PathUnescape(s); err == nil {
			segs[i] = u
		}
	}
	return strings.Join(segs, "/")
}

func stringAt(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func mapAt(m map[string]any, path ...string) (map[string]any, bool) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur = mm[p]
	}
	out, ok := cur.(map[string]any)
	return out, ok
}
