package k8sschema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/k8sschema/internal/bundle"
	"github.com/envctl/envctl/internal/k8sschema/translate"
)

// Set is the schemas of one Kubernetes version, in strict or non-strict
// mode. It is safe for concurrent use.
type Set struct {
	version string // "1.34"
	strict  bool
	b       *bundle.Bundle
	kinds   map[gvk]*entry

	mu sync.Mutex // guards c: the compiler is not safe for concurrent use
	c  *jsonschema.Compiler
}

type gvk struct{ apiVersion, kind string }

type entry struct {
	kind   bundle.Kind
	once   sync.Once
	schema *jsonschema.Schema
	err    error
}

// Kind is a group/version/kind that has a schema.
type Kind struct {
	APIVersion string // "apps/v1", "v1"
	Kind       string
	// Namespaced says whether the resource is namespaced;
	// NamespacedKnown is false for kinds that are not resources
	// (DeleteOptions, ...).
	Namespaced, NamespacedKnown bool
	// Resource is the resource that serves the kind ("deployments");
	// empty for kinds that are not resources (see Set.Resource).
	Resource string
}

// ErrUnknownKind is returned (wrapped) by Validate for an apiVersion/kind
// that has no schema in the Set's Kubernetes version.
var ErrUnknownKind = errors.New("unknown kind")

var (
	setsMu sync.Mutex
	sets   = map[[2]any]*Set{}
)

// Load returns the schemas of a Kubernetes version: "1.34", "v1.34" or a
// patch release such as "1.34.2" (schemas are per minor version). Strict
// sets reject fields the schema does not list. An unknown version is an
// error that lists the available ones. Load returns the same *Set for the
// same version and mode, so compiled schemas are shared process-wide.
func Load(version string, strict bool) (*Set, error) {
	v, err := normalizeVersion(version)
	if err != nil {
		return nil, err
	}
	setsMu.Lock()
	defer setsMu.Unlock()
	if s, ok := sets[[2]any{v, strict}]; ok {
		return s, nil
	}
	b, err := loadBundle(v)
	if err != nil {
		return nil, err
	}
	s := newSet(v, strict, b)
	sets[[2]any{v, strict}] = s
	return s, nil
}

func newSet(version string, strict bool, b *bundle.Bundle) *Set {
	s := &Set{version: version, strict: strict, b: b, kinds: make(map[gvk]*entry, len(b.Kinds))}
	for _, k := range b.Kinds {
		s.kinds[gvk{k.APIVersion(), k.Kind}] = &entry{kind: k}
	}
	s.c = jsonschema.NewCompiler()
	s.c.Draft = jsonschema.Draft2020
	s.c.AssertFormat = true
	for name, f := range translate.Formats {
		s.c.Formats[name] = f
	}
	s.c.LoadURL = s.loadDef
	return s
}

// Version returns the Kubernetes minor version, e.g. "1.34".
func (s *Set) Version() string { return s.version }

// KubernetesRelease returns the release the schemas were generated from,
// e.g. "v1.34.4".
func (s *Set) KubernetesRelease() string { return s.b.Kubernetes }

// Strict reports whether the Set rejects unknown fields.
func (s *Set) Strict() bool { return s.strict }

// Kinds lists the kinds that have schemas, sorted by apiVersion and kind.
func (s *Set) Kinds() []Kind {
	out := make([]Kind, 0, len(s.b.Kinds))
	for _, k := range s.b.Kinds {
		kk := Kind{APIVersion: k.APIVersion(), Kind: k.Kind, Resource: k.Resource}
		if k.Namespaced != nil {
			kk.Namespaced, kk.NamespacedKnown = *k.Namespaced, true
		}
		out = append(out, kk)
	}
	slices.SortFunc(out, func(a, b Kind) int {
		if c := strings.Compare(a.APIVersion, b.APIVersion); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	return out
}

// Namespaced reports whether apiVersion/kind is a namespaced resource.
// known is false when the version has no such kind, or when the kind is
// not a resource (its scope cannot be told from the API paths).
func (s *Set) Namespaced(apiVersion, kind string) (namespaced, known bool) {
	e, ok := s.kinds[gvk{apiVersion, kind}]
	if !ok || e.kind.Namespaced == nil {
		return false, false
	}
	return *e.kind.Namespaced, true
}

// Resource returns the resource that serves apiVersion/kind
// ("deployments") and whether it is namespaced; ok is false when the
// version has no such kind or the kind is only a subresource's body
// (Scale, Eviction), which no RBAC rule on a resource of its own names.
func (s *Set) Resource(apiVersion, kind string) (resource string, namespaced, ok bool) {
	e, found := s.kinds[gvk{apiVersion, kind}]
	if !found || e.kind.Resource == "" || e.kind.Namespaced == nil {
		return "", false, false
	}
	return e.kind.Resource, *e.kind.Namespaced, true
}

// Schema returns the compiled schema of apiVersion/kind; found is false
// (and the error nil) when the version has no such kind. Each kind is
// compiled once, on first use; later calls (from any goroutine) return
// the same *jsonschema.Schema, whose Validate is safe for concurrent use.
// Instances must be decoded JSON: map[string]any, []any, string, bool,
// json.Number or float64, nil (encoding/json with UseNumber, or
// sigs.k8s.io/yaml).
func (s *Set) Schema(apiVersion, kind string) (schema *jsonschema.Schema, found bool, err error) {
	e, ok := s.kinds[gvk{apiVersion, kind}]
	if !ok {
		return nil, false, nil
	}
	e.once.Do(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		e.schema, e.err = s.c.Compile(s.defURL(e.kind.Def))
		if e.err != nil {
			e.err = fmt.Errorf("compiling the Kubernetes %s schema of %s %s: %w", s.version, apiVersion, kind, e.err)
		}
	})
	return e.schema, true, e.err
}

// Validate validates a decoded object against the schema of its
// apiVersion and kind. It returns the violations, sorted by path (nil if
// the object is valid), or an error wrapping ErrUnknownKind when the
// version has no schema for the object's kind, or another error when the
// object has no apiVersion or kind.
func (s *Set) Validate(obj map[string]any) ([]Violation, error) {
	apiVersion, _ := obj["apiVersion"].(string)
	kind, _ := obj["kind"].(string)
	if apiVersion == "" || kind == "" {
		return nil, errors.New("object has no apiVersion or no kind")
	}
	sch, found, err := s.Schema(apiVersion, kind)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: Kubernetes %s has no %s %s", ErrUnknownKind, s.version, apiVersion, kind)
	}
	return Violations(sch.Validate(obj)), nil
}

// Definitions are served to the compiler one per document, at
// k8s://v1.34/NAME, so that compiling a kind parses and checks only the
// definitions it reaches. References between them are relative ("NAME").
func (s *Set) defURL(name string) string {
	return "k8s://v" + s.version + "/" + name
}

func typedNull(d any) bool {
	m, ok := d.(map[string]any)
	return ok && translate.TypedNull(m)
}

// nullableSuffix names a definition with null added to its type
// (k8s://v1.34/NAME~null); "~" is in no definition's name.
const nullableSuffix = "~null"

func (s *Set) loadDef(url string) (io.ReadCloser, error) {
	name, ok := strings.CutPrefix(url, "k8s://v"+s.version+"/")
	if !ok {
		return nil, fmt.Errorf("no schema at %s (the Kubernetes schemas load nothing from outside)", url)
	}
	base, nullable := strings.CutSuffix(name, nullableSuffix)
	def, ok := s.b.Def(base)
	if !ok {
		return nil, fmt.Errorf("Kubernetes %s has no definition %s", s.version, name)
	}
	if nullable {
		def = translate.AllowNull(def.(map[string]any))
	}
	doc := prepareDef(def, s.strict, func(ref string) string {
		return strings.TrimPrefix(ref, translate.DefsRefPrefix)
	})
	// An optional field holding a reference is {"if": {"type": "null"},
	// "else": {"$ref": R}}: jsonschema/v5 evaluates the "if" on every
	// value and builds a validation error for each non-null one, which
	// was half of what validating an object allocated. A reference to R
	// with "null" added to its type accepts the same values.
	doc = translate.Transform(doc, func(m map[string]any) {
		r, ok := translate.NullableRef(m)
		if !ok {
			return
		}
		if d, _ := s.b.Def(r); d != nil && typedNull(d) {
			clear(m)
			m["$ref"] = r + nullableSuffix
		}
	})
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}

// prepareDef returns a copy of a bundled definition with strictness
// applied and its references rewritten by ref.
func prepareDef(def any, strict bool, ref func(string) string) any {
	return translate.Transform(def, func(m map[string]any) {
		if strict {
			translate.CloseObject(m)
		}
		if r, ok := m["$ref"].(string); ok {
			m["$ref"] = ref(r)
		}
	})
}
