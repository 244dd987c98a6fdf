package validate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/envctl/envctl/internal/manifest"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/repo"
	"github.com/envctl/envctl/internal/yamlguard"
)

// Checks are the validation settings of envctl.yaml, loaded and
// compiled: the schemas of the CRDs it lists, its contracts, policies and
// rules. The zero value checks nothing beyond the Kubernetes schemas.
type Checks struct {
	loaded, strict bool
	crds           crdSchemas
	contracts      []*contract
	policies       []*policy
	custom         map[string]*customRule
}

// LoadChecks reads and compiles the files that cfg's crds, contracts and
// rules name (relative to root), and resolves its policies' rule ids.
// Every problem is an error naming envctl.yaml's line and key, and the
// file at fault.
func LoadChecks(fsys filesys.FileSystem, root string, cfg *repo.Config, strict bool) (*Checks, error) {
	c := &Checks{loaded: true, strict: strict, crds: crdSchemas{}, custom: map[string]*customRule{}}
	if cfg == nil {
		return c, nil
	}
	for i, entry := range cfg.CRDs {
		if err := c.loadCRDs(fsys, root, entry, strict); err != nil {
			return nil, cfg.Errorf(fmt.Sprintf("crds[%d]", i), "%v", err)
		}
	}
	sl := &schemaLoader{fsys: fsys, root: root}
	for i, ct := range cfg.Contracts {
		key := fmt.Sprintf("contracts[%d]", i)
		k := &contract{
			ref:  fmt.Sprintf("%s:%d", filepath.Base(cfg.File()), cfg.Line(key)),
			kind: ct.Kind(), name: ct.Name(), envs: ct.Environments,
		}
		if ct.Schema != "" {
			sch, err := sl.load(ct.Schema)
			if err != nil {
				return nil, cfg.Errorf(key+".schema", "%v", err)
			}
			k.data, k.dataFile = sch, filepath.ToSlash(filepath.Clean(ct.Schema))
		}
		for j, ck := range ct.Keys {
			sch, err := sl.load(ck.Schema)
			if err != nil {
				return nil, cfg.Errorf(fmt.Sprintf("%s.keys[%d].schema", key, j), "%v", err)
			}
			format := ck.Format
			if format == "" {
				format = repo.FormatOfKey(ck.Key)
			}
			k.keys = append(k.keys, contractKey{key: ck.Key, format: format, optional: ck.Optional, schema: sch, file: filepath.ToSlash(filepath.Clean(ck.Schema))})
		}
		c.contracts = append(c.contracts, k)
	}
	for i, r := range cfg.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		if _, ok := builtinRules[r.ID]; ok {
			return nil, cfg.Errorf(key+".id", "%q is a built-in rule; give yours another id", r.ID)
		}
		sch, err := sl.load(r.Schema)
		if err != nil {
			return nil, cfg.Errorf(key+".schema", "%v", err)
		}
		c.custom[r.ID] = &customRule{id: r.ID, description: r.Description, kinds: r.Kinds, names: r.Names, schema: sch, file: filepath.ToSlash(filepath.Clean(r.Schema))}
	}
	for i, p := range cfg.Policies {
		for j, id := range p.Rules {
			if _, ok := builtinRules[id]; ok {
				continue
			}
			if _, ok := c.custom[id]; ok {
				continue
			}
			return nil, cfg.Errorf(fmt.Sprintf("policies[%d].rules[%d]", i, j), "unknown rule %q (built-in rules: %s%s)", id, strings.Join(slices.Sorted(maps.Keys(builtinRules)), ", "), c.customList())
		}
		c.policies = append(c.policies, &policy{name: p.Name, envs: p.Environments, rules: p.Rules, params: p.Params, exclude: p.Exclude, custom: c.custom})
	}
	return c, nil
}

func (c *Checks) customList() string {
	if len(c.custom) == 0 {
		return "; envctl.yaml defines none under rules:"
	}
	return "; rules of envctl.yaml: " + strings.Join(slices.Sorted(maps.Keys(c.custom)), ", ")
}

func appliesTo(envs []string, env string) bool {
	return env != "" && (len(envs) == 0 || slices.Contains(envs, env))
}

// policiesFor returns the policies that apply to an environment; "" (files
// given with -f and no --env) gets none.
func (c *Checks) policiesFor(env string) []*policy {
	var out []*policy
	for _, p := range c.policies {
		if appliesTo(p.envs, env) {
			out = append(out, p)
		}
	}
	return out
}

// contractsFor returns the contracts that apply to an environment.
func (c *Checks) contractsFor(env string) []*contract {
	var out []*contract
	for _, k := range c.contracts {
		if appliesTo(k.envs, env) {
			out = append(out, k)
		}
	}
	return out
}

var schemaRuleDescriptions = map[string]string{
	RuleKubernetesSchema: "The object matches the Kubernetes OpenAPI schema of its apiVersion and kind (types, required fields, unknown fields in strict mode).",
	RuleCRDSchema:        "The custom resource matches the openAPIV3Schema of its CustomResourceDefinition.",
	RuleAPILimits:        "Names, labels, annotations, ConfigMap and Secret keys and sizes are within what the API server and etcd accept (the API server's own checks).",
	RuleServerDryRun:     "The API server accepts the object in a server-side dry run: its validation and admission (webhooks, ValidatingAdmissionPolicies, quota, LimitRange).",
	RuleCRDCEL:           "The custom resource passes the x-kubernetes-validations (CEL) rules of its CustomResourceDefinition, evaluated with the API server's code and cost limits.",
	RuleContract:         "The ConfigMap's or Secret's data, and each document in it that a contract names, match the contract's JSON Schemas.",
	RuleContractPayload:  "A data value that a contract declares as a document (JSON, YAML, properties, env) parses as one.",
}

// Describe returns the one-line explanation of a rule id.
func (c *Checks) Describe(id string) string {
	if d, ok := schemaRuleDescriptions[id]; ok {
		return d
	}
	if b, ok := builtinRules[id]; ok {
		return b.summary
	}
	if c != nil {
		if r, ok := c.custom[id]; ok {
			return r.description
		}
	}
	return ""
}

// ruleDescriptions describes the rules with findings in the report and
// the rules that ran for its environments.
func (c *Checks) ruleDescriptions(rep *Report, envs []string) map[string]string {
	ids := map[string]bool{RuleKubernetesSchema: true}
	for _, id := range rep.RuleIDs() {
		ids[id] = true
	}
	for _, env := range envs {
		if len(c.crds) > 0 {
			ids[RuleCRDSchema] = true
		}
		if len(c.contractsFor(env)) > 0 {
			ids[RuleContract], ids[RuleContractPayload] = true, true
		}
		for _, p := range c.policiesFor(env) {
			for _, id := range p.rules {
				ids[id] = true
			}
		}
	}
	out := map[string]string{}
	for id := range ids {
		out[id] = c.Describe(id)
	}
	return out
}

// loadCRDs reads the CustomResourceDefinitions of a file or directory.
func (c *Checks) loadCRDs(fsys filesys.FileSystem, root, entry string, strict bool) error {
	p := filepath.Join(root, entry)
	if !fsys.Exists(p) {
		return fmt.Errorf("%s: no such file or directory", entry)
	}
	var files []string
	if fsys.IsDir(p) {
		found, err := manifest.Files(fsys, p)
		if err != nil {
			return fmt.Errorf("%s: %w", entry, err)
		}
		files = found
	} else {
		files = []string{p}
	}
	found := 0
	for _, f := range files {
		rel := manifest.RelPath(root, f)
		data, err := fsys.ReadFile(f)
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		if err := yamlguard.Check(data); err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		for _, d := range splitDocuments(data) {
			obj, err := decodeObject(d.Data, false)
			if err != nil {
				var de *decodeError
				if errors.As(err, &de) && de.Line > 0 {
					return fmt.Errorf("%s:%d: %s", rel, d.Start+de.Line-1, de.Msg)
				}
				return fmt.Errorf("%s:%d: %v", rel, d.Line, err)
			}
			id := identify(obj)
			if id.Kind != "CustomResourceDefinition" || !strings.HasPrefix(id.APIVersion, "apiextensions.k8s.io/") {
				continue
			}
			if err := c.crds.addCRD(obj, strict, fmt.Sprintf("%s:%d", rel, d.Line)); err != nil {
				return err
			}
			found++
		}
	}
	if found == 0 {
		return fmt.Errorf("%s holds no CustomResourceDefinition", entry)
	}
	return nil
}

// schemaLoader compiles the JSON Schema files of a repository (JSON, or
// YAML for .yaml/.yml files). A schema may $ref other files of the
// repository; nothing is fetched from the network.
type schemaLoader struct {
	fsys filesys.FileSystem
	root string
}

func (l *schemaLoader) load(rel string) (*jsonschema.Schema, error) {
	abs := filepath.Join(l.root, rel)
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.AssertFormat = true
	c.LoadURL = func(u string) (io.ReadCloser, error) {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme != "file" {
			return nil, fmt.Errorf("%s: only files of the repository can be referenced (validation is offline)", u)
		}
		data, err := l.read(pu.Path)
		if err != nil {
			return nil, err
		}
		return io.NopCloser(bytes.NewReader(data)), nil
	}
	data, err := l.read(abs)
	if err != nil {
		return nil, err
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
	if err := c.AddResource(u, bytes.NewReader(data)); err != nil {
		return nil, fmt.Errorf("%s: %v", rel, err)
	}
	sch, err := c.Compile(u)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", rel, schemaCompileError(err))
	}
	return sch, nil
}

// read returns a schema file as JSON.
func (l *schemaLoader) read(abs string) ([]byte, error) {
	rel := manifest.RelPath(l.root, abs)
	if !l.fsys.Exists(abs) {
		return nil, fmt.Errorf("%s: no such file", rel)
	}
	data, err := l.fsys.ReadFile(abs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	switch strings.ToLower(filepath.Ext(abs)) {
	case ".yaml", ".yml":
		if err := yamlguard.Check(data); err != nil {
			return nil, fmt.Errorf("%s: %w", rel, err)
		}
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			return nil, fmt.Errorf("%s: not YAML: %v", rel, err)
		}
		return j, nil
	}
	if _, err := parseJSON(string(data)); err != nil {
		return nil, fmt.Errorf("%s: %v", rel, err)
	}
	return data, nil
}
