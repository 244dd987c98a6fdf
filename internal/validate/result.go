package validate

import (
	"fmt"

	"github.com/envctl/envctl/internal/k8sschema"
	"slices"
	"strings"
)

// Status is the verdict on one object.
type Status int

// The verdicts, as kubeconform has them.
const (
	// Valid: every check ran and passed.
	Valid Status = iota
	// Invalid: a check found a problem.
	Invalid
	// Error: the object could not be checked (it does not parse, it has
	// no apiVersion or kind, there is no schema for its kind, a contract
	// names an object that is not there).
	Error
	// Skipped: --skip-kinds names its kind, or --skip-unknown and there is
	// no schema for it.
	Skipped
)

var statusNames = [...]string{"valid", "invalid", "error", "skipped"}

func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Object identifies a Kubernetes object.
type Object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// String is "apps/v1 Deployment ns/name" (no namespace for cluster-scoped
// objects).
func (o Object) String() string {
	var b strings.Builder
	if o.APIVersion != "" {
		b.WriteString(o.APIVersion)
		b.WriteByte(' ')
	}
	if o.Kind != "" {
		b.WriteString(o.Kind)
	} else {
		b.WriteString("(no kind)")
	}
	b.WriteByte(' ')
	if o.Namespace != "" {
		b.WriteString(o.Namespace)
		b.WriteByte('/')
	}
	if o.Name != "" {
		b.WriteString(o.Name)
	} else {
		b.WriteString("(no name)")
	}
	return b.String()
}

// Group returns the API group of the object's apiVersion ("" for core).
func (o Object) Group() string {
	g, _, ok := strings.Cut(o.APIVersion, "/")
	if !ok {
		return ""
	}
	return g
}

// Source is a place in a file: repository-relative for rendered
// environments, as given on the command line for -f files.
type Source struct {
	File string `json:"file"`
	// Line is 1-based; 0 when unknown.
	Line int `json:"line,omitempty"`
}

func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	if s.Line > 0 {
		return fmt.Sprintf("%s:%d", s.File, s.Line)
	}
	return s.File
}

// Problem is one finding about an object.
type Problem struct {
	// Rule is the id of the check that found it: "kubernetes-schema",
	// "crd-schema", "contract", "contract-payload", a built-in policy
	// rule ("min-replicas", ...) or a rule of envctl.yaml.
	Rule string `json:"rule"`
	// Path is a JSON pointer to the field in the object
	// ("/spec/template/spec/containers/0/image"); for a contract, the
	// data key ("/data/feature-flags.json").
	Path string `json:"path"`
	// Key is the data key of a ConfigMap or Secret whose payload the
	// problem is in; Pointer is the JSON pointer inside that payload.
	Key     string `json:"key,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	// Message says what is wrong. It never holds a Secret's value.
	Message string `json:"message"`
	// Schema is the repository file holding the schema that found the
	// problem (contracts and repository rules).
	Schema string `json:"schema,omitempty"`
	// Line is the line in the result's source file closest to the
	// problem (the field's own line when the file holds it); 0 when
	// unknown.
	Line int `json:"line,omitempty"`

	// keyword is the JSON Schema keyword that failed, for redaction.
	keyword string
}

// Result is the verdict on one object.
type Result struct {
	// Env is the environment the object was rendered for ("" for files
	// validated with -f and no --env).
	Env    string `json:"environment,omitempty"`
	Object Object `json:"object"`
	Status Status `json:"-"`
	// Problems are sorted by path, rule and message.
	Problems []Problem `json:"problems,omitempty"`
	// Reason says why an object is an Error or Skipped.
	Reason string `json:"reason,omitempty"`
	// Notes say what was not checked and why (a CRD's transition rules,
	// which need the stored object).
	Notes []string `json:"notes,omitempty"`
	// Source is where the object is defined, when known.
	Source Source `json:"source"`

	input, index int // stream order
	// located is 1 + the number of problems whose lines were found
	// while checking (files given with -f); 0 when not located.
	located int
}

// Report is the outcome of a validation run.
type Report struct {
	// KubernetesVersion is the version of the schemas ("1.37");
	// EnvVersions lists the environments checked against another one
	// (their kubeVersion in envctl.yaml).
	KubernetesVersion string
	EnvVersions       map[string]string
	Strict            bool
	// Envs lists the environments validated, in the order given.
	Envs []string
	// Results are in input order: by environment (as given), then
	// document order.
	Results []Result
	// Rules describes every rule id that appears in Results, plus the
	// rules that ran.
	Rules map[string]string
	// Warnings are problems that did not stop validation, such as an
	// environment whose objects could not be mapped to their files.
	Warnings []string
}

// Versions lists the Kubernetes versions the report's objects were
// checked against, oldest first.
func (r *Report) Versions() []string {
	vs := []string{r.KubernetesVersion}
	for _, v := range r.EnvVersions {
		if !slices.Contains(vs, v) {
			vs = append(vs, v)
		}
	}
	slices.SortFunc(vs, k8sschema.CompareVersions)
	return vs
}

// VersionOf returns the Kubernetes version an environment was checked
// against.
func (r *Report) VersionOf(env string) string {
	if v, ok := r.EnvVersions[env]; ok {
		return v
	}
	return r.KubernetesVersion
}

// Counts tallies the results by status.
type Counts struct{ Valid, Invalid, Errors, Skipped int }

// Total is the number of results.
func (c Counts) Total() int { return c.Valid + c.Invalid + c.Errors + c.Skipped }

// Count tallies results (of one environment when env is non-nil).
func (r *Report) Count(env *string) Counts {
	var c Counts
	for _, res := range r.Results {
		if env != nil && res.Env != *env {
			continue
		}
		c.add(res.Status)
	}
	return c
}

// add counts one result of status s.
func (c *Counts) add(s Status) {
	switch s {
	case Valid:
		c.Valid++
	case Invalid:
		c.Invalid++
	case Error:
		c.Errors++
	case Skipped:
		c.Skipped++
	}
}

// RuleIDs returns the ids of the rules with problems in the report,
// sorted.
func (r *Report) RuleIDs() []string {
	seen := map[string]bool{}
	for _, res := range r.Results {
		for _, p := range res.Problems {
			seen[p.Rule] = true
		}
	}
	ids := make([]string, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func sortProblems(ps []Problem) {
	slices.SortFunc(ps, func(a, b Problem) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.Pointer, b.Pointer); c != 0 {
			return c
		}
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return strings.Compare(a.Message, b.Message)
	})
}

// FieldPath renders a JSON pointer as a field path:
// "/spec/template/spec/containers/0/image" is
// "spec.template.spec.containers[0].image", and keys that are not plain
// names are quoted: `metadata.labels["app.kubernetes.io/name"]`.
func FieldPath(pointer string) string {
	if pointer == "" || pointer == "/" {
		return "(root)"
	}
	var b strings.Builder
	for _, seg := range splitPointer(pointer) {
		switch {
		case isIndex(seg):
			b.WriteString("[" + seg + "]")
		case isPlainName(seg):
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(seg)
		default:
			fmt.Fprintf(&b, "[%q]", seg)
		}
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r == '_' || r == '$' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && (r == '-' || (r >= '0' && r <= '9')))
		if !ok {
			return false
		}
	}
	return true
}

// splitPointer splits a JSON pointer into unescaped segments.
func splitPointer(p string) []string {
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return segs
}

// joinPointer builds a JSON pointer from segments.
func joinPointer(segs ...string) string {
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(escapePointer(s))
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// RuleServerDryRun is the rule id of what the API server refused in a
// server-side dry run (validate --dry-run=server).
const RuleServerDryRun = "server-dry-run"

// addRefusals adds the API server's refusals to the results of their
// objects, which become invalid.
func addRefusals(results []Result, refusals []ServerRefusal) {
	for _, f := range refusals {
		for i := range results {
			res := &results[i]
			if res.Object != f.Object {
				continue
			}
			res.Problems = append(res.Problems, Problem{Rule: RuleServerDryRun, Path: fieldToPointer(f.Field), Message: f.Message})
			sortProblems(res.Problems)
			if res.Status == Valid {
				res.Status = Invalid
			}
			break
		}
	}
}
