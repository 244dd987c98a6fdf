package validate

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/manifest"
)

// Rule ids of contract findings.
const (
	// RuleContract: a ConfigMap's or Secret's data, or a document in it,
	// does not satisfy its contract's schema, or a required key is
	// missing.
	RuleContract = "contract"
	// RuleContractPayload: a value that a contract declares as a document
	// (JSON, YAML, properties, env) does not parse as one.
	RuleContractPayload = "contract-payload"
)

// contract is a compiled contract of envctl.yaml.
type contract struct {
	ref        string // "envctl.yaml:12 (contracts[0])"
	kind, name string
	envs       []string // empty: every environment
	data       *jsonschema.Schema
	dataFile   string
	keys       []contractKey
}

type contractKey struct {
	key, format string
	optional    bool
	schema      *jsonschema.Schema
	file        string
}

// binds reports whether the contract binds an object: same kind, and the
// same name or the name plus kustomize's hash suffix.
func (c *contract) binds(o Object) bool {
	return o.Kind == c.kind && manifest.GeneratedName(o.Name, c.name)
}

// checkContracts applies the environment's contracts to a ConfigMap or
// Secret.
func (env *envState) checkContracts(obj map[string]any, o Object) []Problem {
	var out []Problem
	var data map[string]any
	var field map[string]string // key → "data" or "stringData"
	for i, c := range env.contracts {
		if !c.binds(o) {
			continue
		}
		env.matched[i].Store(true)
		if data == nil {
			data, field = dataOf(obj, o.Kind == "Secret")
		}
		if c.data != nil {
			for _, p := range violations(c.data.Validate(data), RuleContract) {
				segs := splitPointer(p.Path)
				if len(segs) > 0 {
					p.Key = segs[0]
					p.Path = joinPointer(append([]string{fieldOf(field, segs[0])}, segs...)...)
				} else {
					p.Path = "/data"
				}
				p.Schema = c.dataFile
				out = append(out, p)
			}
		}
		for _, k := range c.keys {
			path := joinPointer(fieldOf(field, k.key), k.key)
			raw, ok := data[k.key].(string)
			if !ok {
				if !k.optional {
					out = append(out, Problem{Rule: RuleContract, Path: path, Key: k.key, Schema: k.file, Message: fmt.Sprintf("key %q is missing (contract %s)", k.key, c.ref), keyword: "required"})
				}
				continue
			}
			doc, err := parsePayload(k.format, raw)
			if err != nil {
				out = append(out, Problem{Rule: RuleContractPayload, Path: path, Key: k.key, Message: err.Error(), keyword: "payload"})
				continue
			}
			for _, p := range violations(k.schema.Validate(doc), RuleContract) {
				p.Pointer = p.Path
				if p.Pointer == "" {
					p.Pointer = "/"
				}
				p.Path, p.Key, p.Schema = path, k.key, k.file
				out = append(out, p)
			}
		}
	}
	return out
}

func fieldOf(field map[string]string, key string) string {
	if f, ok := field[key]; ok {
		return f
	}
	return "data"
}

// dataOf returns the data map of a ConfigMap (data; binaryData is left
// out), or of a Secret (data decoded, stringData over it).
func dataOf(obj map[string]any, secret bool) (map[string]any, map[string]string) {
	out := map[string]any{}
	field := map[string]string{}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			s, ok := v.(string)
			if !ok {
				continue // the Kubernetes schema reports it
			}
			if secret {
				b, err := base64.StdEncoding.DecodeString(strings.NewReplacer("\n", "", "\r", "").Replace(s))
				if err != nil {
					continue // the Kubernetes schema reports it
				}
				s = string(b)
			}
			out[k] = s
			field[k] = "data"
		}
	}
	if secret {
		if d, ok := obj["stringData"].(map[string]any); ok {
			for k, v := range d {
				if s, ok := v.(string); ok {
					out[k] = s
					field[k] = "stringData"
				}
			}
		}
	}
	return out, field
}

// missingContracts reports the contracts of the environment that bound no
// object: the ConfigMap or Secret they name is not rendered there.
func (env *envState) missingContracts() []Result {
	var out []Result
	for i, c := range env.contracts {
		if env.matched[i].Load() {
			continue
		}
		where := "the input"
		if env.name != "" {
			where = "environment " + env.name
		}
		out = append(out, Result{
			Object: Object{APIVersion: "v1", Kind: c.kind, Name: c.name},
			Status: Error,
			Reason: fmt.Sprintf("contract %s binds %s %s, but %s has no %s of that name (nor with a generator's hash suffix)", c.ref, c.kind, c.name, where, c.kind),
			index:  -1 - i,
		})
	}
	slices.SortFunc(out, func(a, b Result) int { return strings.Compare(a.Object.Name, b.Object.Name) })
	return out
}
