package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/internal/k8sschema"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/yamlguard"
)

// ConfigFile is the name of the repository configuration file.
const ConfigFile = "envctl.yaml"

// Supported header of envctl.yaml. The version is in the header so the format
// can evolve without guessing what an old file meant.
const (
	ConfigAPIVersion = "envctl.dev/v1alpha1"
	ConfigKind       = "Config"
)

// Config is envctl.yaml. Later features add sections here; decoding is strict
// so a misspelt key is an error rather than a silently ignored setting.
type Config struct {
	APIVersion   string        `yaml:"apiVersion"`
	Kind         string        `yaml:"kind"`
	Environments []Environment `yaml:"environments"`
	// Ignore lists fields that drift detection skips in every environment:
	// fields another controller or team manages.
	Ignore []IgnoreRule `yaml:"ignore,omitempty"`

	// CRDs lists files or directories (relative to the repository root)
	// holding CustomResourceDefinitions whose schemas `envctl validate`
	// checks custom resources against.
	CRDs []string `yaml:"crds,omitempty"`
	// Contracts bind ConfigMaps and Secrets to JSON Schemas for the
	// application configuration they carry.
	Contracts []Contract `yaml:"contracts,omitempty"`
	// Policies are named sets of policy rules, each applied to the
	// environments it lists.
	Policies []Policy `yaml:"policies,omitempty"`
	// Rules are the repository's own policy rules: JSON Schemas applied to
	// the objects they select. Policies name them by id.
	Rules []Rule `yaml:"rules,omitempty"`
	// Compare declares the differences `envctl compare` expects between
	// two environments.
	Compare Compare `yaml:"compare,omitempty"`
	// Drift tunes what `envctl diff` counts as drift.
	Drift Drift `yaml:"drift,omitempty"`
	// Secrets holds what `envctl secrets check` allows across
	// environments.
	Secrets SecretsConfig `yaml:"secrets,omitempty"`

	// file and root locate keys for errors found after decoding (Line,
	// Errorf): the checks of envctl validate run after ParseConfig.
	file string
	root *yaml.Node
}

// Drift tunes the drift model of `envctl diff` (see the README's "What
// counts as drift").
type Drift struct {
	// HandEditManagers are field managers, besides kubectl's imperative
	// commands, whose writes are hand edits: a field one of them set that
	// the repository does not declare is drift (e.g. k9s, Lens, a
	// script's client).
	HandEditManagers []string `yaml:"handEditManagers,omitempty"`
	// Appliers are server-side-apply field managers, besides envctl,
	// kubectl, kustomize-controller and argocd-controller, that apply
	// this repository: a field one of them applied that left the
	// repository is drift.
	Appliers []string `yaml:"appliers,omitempty"`
	// Metadata is "strict" to make labels and annotations set by hand
	// drift too; empty (the default) leaves them out.
	Metadata string `yaml:"metadata,omitempty"`
}

// DriftMetadataStrict is the one value of drift.metadata.
const DriftMetadataStrict = "strict"

// Contract binds a ConfigMap or a Secret, by the name its generator or
// manifest gives it (before kustomize's hash suffix), to JSON Schemas: one
// for its whole data map and/or one per key whose value is a document.
type Contract struct {
	ConfigMap string `yaml:"configMap,omitempty"`
	Secret    string `yaml:"secret,omitempty"`
	// Environments limits the contract to these environments; empty means
	// every environment.
	Environments []string `yaml:"environments,omitempty"`
	// Schema is a JSON Schema file (relative to the repository root) for
	// the data map: keys to string values (a Secret's values decoded).
	Schema string `yaml:"schema,omitempty"`
	// Keys are documents inside the data map, each with its own schema.
	Keys []ContractKey `yaml:"keys,omitempty"`
}

// Name returns the ConfigMap's or the Secret's name.
func (c Contract) Name() string {
	if c.Secret != "" {
		return c.Secret
	}
	return c.ConfigMap
}

// Kind returns "ConfigMap" or "Secret".
func (c Contract) Kind() string {
	if c.Secret != "" {
		return "Secret"
	}
	return "ConfigMap"
}

// Payload formats of contract keys.
var ContractFormats = []string{"json", "yaml", "properties", "env"}

// ContractKey is one key of a contract's data map whose value is a
// document.
type ContractKey struct {
	Key    string `yaml:"key"`
	Schema string `yaml:"schema"`
	// Format is json, yaml, properties or env; empty means the key's
	// extension says (.json, .yaml or .yml, .properties, .env).
	Format string `yaml:"format,omitempty"`
	// Optional keys may be absent; a required key that is absent is a
	// finding.
	Optional bool `yaml:"optional,omitempty"`
}

// Policy is a named set of policy rules (built-in ids or ids of Rules)
// applied to the environments it lists.
type Policy struct {
	Name string `yaml:"name"`
	// Environments lists where the policy applies; empty means every
	// environment.
	Environments []string `yaml:"environments,omitempty"`
	Rules        []string `yaml:"rules"`
	// Params configure built-in rules.
	Params PolicyParams `yaml:"params,omitempty"`
	// Exclude exempts objects from some or all of the policy's rules.
	Exclude []PolicyExclude `yaml:"exclude,omitempty"`
}

// PolicyParams are the parameters of the built-in rules; zero values
// mean the rule's default.
type PolicyParams struct {
	// MinReplicas is min-replicas' minimum (default 2).
	MinReplicas int `yaml:"minReplicas,omitempty"`
	// RequiredLabels is required-labels' list (default
	// app.kubernetes.io/name).
	RequiredLabels []string `yaml:"requiredLabels,omitempty"`
}

// PolicyExclude exempts the objects it selects from rules of a policy.
type PolicyExclude struct {
	// Rules lists the exempted rules; empty means all of the policy's.
	Rules []string `yaml:"rules,omitempty"`
	// Kind is a Kind or group/version/Kind; empty means any.
	Kind string `yaml:"kind,omitempty"`
	// Name is a glob (*, ?, [a-z]) matched against the object's name;
	// empty means any.
	Name string `yaml:"name,omitempty"`
	// Reason says why; it is required so that exemptions explain
	// themselves in review.
	Reason string `yaml:"reason"`
}

// Rule is a repository policy rule: a JSON Schema that every selected
// object must satisfy.
type Rule struct {
	// ID names the rule in policies and in findings.
	ID string `yaml:"id"`
	// Description is the one-line explanation printed with findings.
	Description string `yaml:"description"`
	// Kinds selects objects by Kind or group/version/Kind.
	Kinds []string `yaml:"kinds"`
	// Names optionally narrows the selection to names matching a glob.
	Names []string `yaml:"names,omitempty"`
	// Schema is a JSON Schema file, relative to the repository root.
	Schema string `yaml:"schema"`
}

// EnvSecrets is an environment's secrets: section.
type EnvSecrets struct {
	// Production environments' recipients must not decrypt any
	// non-production environment's secrets (sharedRecipients aside).
	Production bool `yaml:"production,omitempty"`
	// Plaintext "allowed" lets the environment keep plaintext secret
	// sources (a dev environment with throwaway values).
	Plaintext string `yaml:"plaintext,omitempty"`
}

// PlaintextAllowed is EnvSecrets.Plaintext's one value.
const PlaintextAllowed = "allowed"

// SecretsConfig is the top-level secrets: section.
type SecretsConfig struct {
	// SharedRecipients may be recipients of production and
	// non-production environments alike (a CI key that renders all).
	SharedRecipients []SharedRecipient `yaml:"sharedRecipients,omitempty"`
}

// SharedRecipient is an age recipient declared to be shared across
// production and non-production environments, with the reason why.
type SharedRecipient struct {
	Recipient string `yaml:"recipient"`
	Reason    string `yaml:"reason"`
}

// Line returns the line of a key in envctl.yaml, written as in error
// messages ("contracts[0].keys[1].schema", "policies[2].rules[0]"), or the
// line of its nearest ancestor that exists; 0 when the file is unknown.
func (c *Config) Line(key string) int {
	if c.root == nil || len(c.root.Content) == 0 {
		return 0
	}
	n := c.root.Content[0]
	line := 0
	for _, seg := range splitKey(key) {
		var next *yaml.Node
		if idx, err := strconv.Atoi(seg); err == nil {
			if n.Kind == yaml.SequenceNode && idx >= 0 && idx < len(n.Content) {
				next = n.Content[idx]
				line = next.Line
			}
		} else if l := keyLine(n, seg); n.Kind == yaml.MappingNode && manifest.MapValue(n, seg) != nil {
			next = manifest.MapValue(n, seg)
			line = l
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// splitKey splits "a[0].b" into "a", "0", "b".
func splitKey(key string) []string {
	return strings.FieldsFunc(key, func(r rune) bool { return r == '.' || r == '[' || r == ']' })
}

// Errorf returns a ConfigError for key, located in envctl.yaml.
func (c *Config) Errorf(key, format string, args ...any) *ConfigError {
	return &ConfigError{File: c.file, Line: c.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// File returns the path envctl.yaml was parsed from.
func (c *Config) File() string { return c.file }

// IgnoreRule selects objects (every selector is optional) and a field in
// them that drift detection skips.
type IgnoreRule struct {
	// APIVersion selects by API group ("apps/v1" selects group apps).
	APIVersion string `yaml:"apiVersion,omitempty"`
	Kind       string `yaml:"kind,omitempty"`
	Namespace  string `yaml:"namespace,omitempty"`
	// Name is a glob: *, ?, [a-z].
	Name string `yaml:"name,omitempty"`
	// Path is a JSON pointer (RFC 6901) to the skipped field, e.g.
	// /spec/replicas; empty skips the selected objects altogether.
	Path string `yaml:"path"`

	line int
}

// Compare is the `compare:` section: what is expected to differ between
// environments, set aside by `envctl compare ENV1 ENV2` so that what is
// left is what a promotion from ENV1 to ENV2 would change unexpectedly.
type Compare struct {
	// Namespaces: each environment runs in its own namespace (its
	// namespace here, else the one most of its objects have). Objects
	// pair across the two, and the namespace in any value (a
	// RoleBinding subject, redis.<ns>.svc) is not a difference.
	Namespaces bool `yaml:"namespaces,omitempty"`
	// NamePrefixes maps environments to the prefix they give names
	// (kustomize namePrefix); "" for none.
	NamePrefixes map[string]string `yaml:"namePrefixes,omitempty"`
	// Hostnames maps environments to the host name or domain they serve
	// (api.staging.example.com, or staging.example.com for every host
	// under it).
	Hostnames map[string]string `yaml:"hostnames,omitempty"`
	// Ignore lists fields expected to differ, as drift's ignore rules:
	// a JSON pointer such as /spec/replicas and optional selectors.
	Ignore []IgnoreRule `yaml:"ignore,omitempty"`
}

// Environment is one deployable environment: an overlay directory and,
// where known, the cluster it runs in.
type Environment struct {
	// Name is how users refer to the environment on the command line.
	Name string `yaml:"name"`
	// Path is the overlay directory, relative to the repository root in
	// envctl.yaml and absolute once loaded.
	Path string `yaml:"path"`
	// Context is the kubeconfig context of the environment's cluster.
	Context string `yaml:"context,omitempty"`
	// Namespace is the default namespace of the environment's objects.
	Namespace string `yaml:"namespace,omitempty"`
	// Selector holds labels that every object of the environment carries:
	// live reads are narrowed to them, and a live object that carries them
	// but is no longer rendered is reported as an orphan.
	Selector map[string]string `yaml:"selector,omitempty"`
	// Ignore adds drift ignore rules for this environment only.
	Ignore []IgnoreRule `yaml:"ignore,omitempty"`
	// Approval "required" makes envctl apply refuse to deploy the
	// environment without a reviewed plan (apply --plan); {required:
	// true, signers: FILE} also requires the plan to be signed by a key
	// of that allowed-signers file.
	Approval Approval `yaml:"approval,omitempty"`
	// KubeVersion is the Kubernetes version of the environment's cluster
	// ("1.36", "v1.36" or "1.36.3"): validate checks the environment
	// against its schemas unless --kube-version says otherwise.
	KubeVersion string `yaml:"kubeVersion,omitempty"`
	// Secrets says how `envctl secrets check` judges the environment's
	// secret sources.
	Secrets EnvSecrets `yaml:"secrets,omitempty"`

	line int
}

// ApprovalRequired is the short form of approval: {required: true}.
const ApprovalRequired = "required"

// Approval is how an environment's changes are approved: written
// "approval: required", or "approval: {required: true, signers: FILE}".
type Approval struct {
	// Required: envctl apply deploys only a reviewed plan.
	Required bool `yaml:"required"`
	// Signers is an allowed-signers file (ssh-keygen's format), relative
	// to the repository root in envctl.yaml and absolute once loaded: the
	// plan must carry a signature by one of its keys.
	Signers string `yaml:"signers,omitempty"`

	// problem is what was wrong with the YAML, reported with its line by
	// ParseConfig (an UnmarshalYAML error has no line).
	problem string
}

// UnmarshalYAML reads both forms, strictly.
func (a *Approval) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == ApprovalRequired {
			a.Required = true
		} else {
			a.problem = fmt.Sprintf("got %q; write %q (apply only a reviewed plan) or {required: true, signers: FILE}", n.Value, ApprovalRequired)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			switch k := n.Content[i].Value; k {
			case "required":
				if err := n.Content[i+1].Decode(&a.Required); err != nil {
					a.problem = "required: want true or false"
				}
			case "signers":
				a.Signers = n.Content[i+1].Value
			default:
				a.problem = fmt.Sprintf("%s: unknown key (known keys: required, signers)", k)
			}
		}
		if a.problem == "" && a.Signers != "" && !a.Required {
			a.problem = "signers needs required: true"
		}
	default:
		a.problem = "want required, or a mapping {required: true, signers: FILE}"
	}
	return nil
}

// ConfigError is a problem in envctl.yaml, located by file, line and key so
// the user can go straight to it.
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		fmt.Fprintf(&b, ": %s", e.Key)
	}
	fmt.Fprintf(&b, ": %s", e.Msg)
	return b.String()
}

// ParseConfig decodes envctl.yaml strictly: unknown keys, duplicate keys, a
// wrong header and duplicate environment names are errors naming the line.
// It does not touch the filesystem; Load checks the directories.
func ParseConfig(file string, data []byte) (*Config, error) {
	// Decoding into Config expands aliases; a small hostile envctl.yaml
	// must not cost minutes before the first error.
	if err := yamlguard.Check(data); err != nil {
		var ae *yamlguard.AliasError
		if errors.As(err, &ae) {
			return nil, &ConfigError{File: file, Line: ae.Line, Msg: ae.Problem()}
		}
		return nil, &ConfigError{File: file, Msg: err.Error()}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, yamlError(file, err)
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: file, Msg: "file is empty; it needs apiVersion: " + ConfigAPIVersion + " and kind: " + ConfigKind}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var cfg Config
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &ConfigError{File: file, Line: extra.Line, Msg: "more than one YAML document; envctl.yaml holds exactly one"}
	}
	cfg.file, cfg.root = file, &root
	if cfg.APIVersion != ConfigAPIVersion {
		return nil, &ConfigError{File: file, Line: keyLine(root.Content[0], "apiVersion"), Key: "apiVersion",
			Msg: fmt.Sprintf("got %q, want %q", cfg.APIVersion, ConfigAPIVersion)}
	}
	if cfg.Kind != ConfigKind {
		return nil, &ConfigError{File: file, Line: keyLine(root.Content[0], "kind"), Key: "kind",
			Msg: fmt.Sprintf("got %q, want %q", cfg.Kind, ConfigKind)}
	}
	if envs := manifest.MapValue(root.Content[0], "environments"); envs != nil && envs.Kind == yaml.SequenceNode {
		for i := range cfg.Environments {
			if i < len(envs.Content) {
				cfg.Environments[i].line = envs.Content[i].Line
			}
		}
	}
	if err := checkIgnores(file, cfg.Ignore, manifest.MapValue(root.Content[0], "ignore"), "ignore"); err != nil {
		return nil, err
	}
	envNodes := manifest.MapValue(root.Content[0], "environments")
	for i := range cfg.Environments {
		var n *yaml.Node
		if envNodes != nil && i < len(envNodes.Content) {
			n = manifest.MapValue(envNodes.Content[i], "ignore")
		}
		if err := checkIgnores(file, cfg.Environments[i].Ignore, n, fmt.Sprintf("environments[%d].ignore", i)); err != nil {
			return nil, err
		}
	}
	seen := map[string]int{}
	for i, e := range cfg.Environments {
		key := fmt.Sprintf("environments[%d]", i)
		switch {
		case e.Name == "":
			return nil, &ConfigError{File: file, Line: e.line, Key: key + ".name", Msg: "is required"}
		case !validName(e.Name):
			return nil, &ConfigError{File: file, Line: e.line, Key: key + ".name",
				Msg: fmt.Sprintf("%q is not a valid environment name (letters, digits, '-', '_' and '.'; it is used as a file name)", e.Name)}
		case e.Path == "":
			return nil, &ConfigError{File: file, Line: e.line, Key: key + ".path", Msg: "is required"}
		case e.Approval.problem != "":
			line := e.line
			if envNodes != nil && i < len(envNodes.Content) {
				line = keyLine(envNodes.Content[i], "approval")
			}
			return nil, &ConfigError{File: file, Line: line, Key: key + ".approval", Msg: e.Approval.problem}
		}
		if e.KubeVersion != "" {
			// Checked here, where the line is known, rather than when
			// validate first needs the schemas.
			if _, _, err := k8sschema.ParseVersion(e.KubeVersion); err != nil {
				var n *yaml.Node
				if envNodes != nil && i < len(envNodes.Content) {
					n = envNodes.Content[i]
				}
				return nil, &ConfigError{File: file, Line: keyLine(n, "kubeVersion"), Key: key + ".kubeVersion", Msg: err.Error()}
			}
		}
		if j, dup := seen[e.Name]; dup {
			return nil, &ConfigError{File: file, Line: e.line, Key: key + ".name",
				Msg: fmt.Sprintf("duplicate environment name %q (first defined at environments[%d])", e.Name, j)}
		}
		seen[e.Name] = i
	}
	if err := cfg.checkValidation(seen); err != nil {
		return nil, err
	}
	if err := cfg.checkCompare(seen); err != nil {
		return nil, err
	}
	if err := cfg.checkDrift(); err != nil {
		return nil, err
	}
	if err := cfg.checkSecrets(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// checkDrift checks the drift section: a known metadata mode, and
// manager names that are names.
func (c *Config) checkDrift() error {
	d := c.Drift
	if d.Metadata != "" && d.Metadata != DriftMetadataStrict {
		return c.Errorf("drift.metadata", "got %q; the one value is %q (labels and annotations set by hand are drift)", d.Metadata, DriftMetadataStrict)
	}
	for _, l := range []struct {
		key   string
		names []string
	}{{"drift.handEditManagers", d.HandEditManagers}, {"drift.appliers", d.Appliers}} {
		for i, m := range l.names {
			if strings.TrimSpace(m) == "" {
				return c.Errorf(fmt.Sprintf("%s[%d]", l.key, i), "is empty; name a field manager as metadata.managedFields shows it")
			}
		}
	}
	return nil
}

// checkSecrets checks the secrets settings: known values, recipients
// that look like age or SSH public keys, and a reason for each shared one.
func (c *Config) checkSecrets() error {
	for i, e := range c.Environments {
		key := fmt.Sprintf("environments[%d].secrets", i)
		switch {
		case e.Secrets.Plaintext != "" && e.Secrets.Plaintext != PlaintextAllowed:
			return c.Errorf(key+".plaintext", "got %q; the one value is %q (the environment may keep plaintext secret sources)", e.Secrets.Plaintext, PlaintextAllowed)
		case e.Secrets.Production && e.Secrets.Plaintext != "":
			return c.Errorf(key+".plaintext", "a production environment cannot keep plaintext secret sources")
		}
	}
	seen := map[string]bool{}
	for i, r := range c.Secrets.SharedRecipients {
		key := fmt.Sprintf("secrets.sharedRecipients[%d]", i)
		rcp := strings.TrimSpace(r.Recipient)
		switch {
		case !strings.HasPrefix(rcp, "age1") && !strings.HasPrefix(rcp, "ssh-"):
			return c.Errorf(key+".recipient", "%q is not an age public key (age1...) or an SSH public key", r.Recipient)
		case seen[rcp]:
			return c.Errorf(key+".recipient", "is listed twice")
		case strings.TrimSpace(r.Reason) == "":
			return c.Errorf(key, "has no reason; say why production and non-production share this recipient")
		}
		seen[rcp] = true
	}
	return nil
}

// checkValidation checks the validation sections for what can be told
// without the filesystem or the rule catalogue (package validate checks
// files, schemas and rule ids, and reports with Errorf).
func (c *Config) checkValidation(envs map[string]int) error {
	checkEnvs := func(key string, names []string) error {
		for i, n := range names {
			if _, ok := envs[n]; !ok && len(c.Environments) > 0 {
				known := make([]string, len(c.Environments))
				for j, e := range c.Environments {
					known[j] = e.Name
				}
				return c.Errorf(fmt.Sprintf("%s.environments[%d]", key, i), "unknown environment %q (environments: %s)", n, strings.Join(known, ", "))
			}
		}
		return nil
	}
	for i, p := range c.CRDs {
		if strings.TrimSpace(p) == "" {
			return c.Errorf(fmt.Sprintf("crds[%d]", i), "is empty; give a file or directory relative to the repository root")
		}
	}
	for i, ct := range c.Contracts {
		key := fmt.Sprintf("contracts[%d]", i)
		switch {
		case ct.ConfigMap == "" && ct.Secret == "":
			return c.Errorf(key, "names no object; give configMap: NAME or secret: NAME")
		case ct.ConfigMap != "" && ct.Secret != "":
			return c.Errorf(key, "names both configMap %q and secret %q; a contract binds one object", ct.ConfigMap, ct.Secret)
		case ct.Schema == "" && len(ct.Keys) == 0:
			return c.Errorf(key, "has no schema and no keys; give schema: FILE for the data map, or keys")
		}
		if err := checkEnvs(key, ct.Environments); err != nil {
			return err
		}
		seenKeys := map[string]bool{}
		for j, k := range ct.Keys {
			kk := fmt.Sprintf("%s.keys[%d]", key, j)
			switch {
			case k.Key == "":
				return c.Errorf(kk+".key", "is required")
			case seenKeys[k.Key]:
				return c.Errorf(kk+".key", "duplicate key %q in this contract", k.Key)
			case k.Schema == "":
				return c.Errorf(kk+".schema", "is required")
			case k.Format != "" && !slices.Contains(ContractFormats, k.Format):
				return c.Errorf(kk+".format", "unknown format %q (formats: %s)", k.Format, strings.Join(ContractFormats, ", "))
			case k.Format == "" && FormatOfKey(k.Key) == "":
				return c.Errorf(kk+".format", "the format of key %q cannot be told from its name; set format: %s", k.Key, strings.Join(ContractFormats, "|"))
			}
			seenKeys[k.Key] = true
		}
	}
	seenPolicies := map[string]bool{}
	for i, p := range c.Policies {
		key := fmt.Sprintf("policies[%d]", i)
		switch {
		case p.Name == "":
			return c.Errorf(key+".name", "is required")
		case seenPolicies[p.Name]:
			return c.Errorf(key+".name", "duplicate policy name %q", p.Name)
		case len(p.Rules) == 0:
			return c.Errorf(key+".rules", "is empty; list rule ids")
		case p.Params.MinReplicas < 0:
			return c.Errorf(key+".params.minReplicas", "must not be negative")
		}
		seenPolicies[p.Name] = true
		if err := checkEnvs(key, p.Environments); err != nil {
			return err
		}
		for j, x := range p.Exclude {
			xk := fmt.Sprintf("%s.exclude[%d]", key, j)
			if _, err := path.Match(x.Name, ""); err != nil {
				return c.Errorf(xk+".name", "%q is not a valid glob", x.Name)
			}
			if x.Kind == "" && x.Name == "" {
				return c.Errorf(xk, "selects every object; give a kind or a name")
			}
			if strings.TrimSpace(x.Reason) == "" {
				return c.Errorf(xk, "has no reason; say why the objects are exempt")
			}
			for k, r := range x.Rules {
				if !slices.Contains(p.Rules, r) {
					return c.Errorf(fmt.Sprintf("%s.rules[%d]", xk, k), "rule %q is not one of policy %q's rules (%s)", r, p.Name, strings.Join(p.Rules, ", "))
				}
			}
		}
	}
	seenRules := map[string]bool{}
	for i, r := range c.Rules {
		key := fmt.Sprintf("rules[%d]", i)
		switch {
		case !ruleIDRe.MatchString(r.ID):
			return c.Errorf(key+".id", "%q is not a rule id (lower-case letters, digits and '-', starting with a letter)", r.ID)
		case seenRules[r.ID]:
			return c.Errorf(key+".id", "duplicate rule id %q", r.ID)
		case strings.TrimSpace(r.Description) == "":
			return c.Errorf(key+".description", "is required: the one-line explanation printed with each finding")
		case len(r.Kinds) == 0:
			return c.Errorf(key+".kinds", "is empty; list the kinds the rule applies to")
		case r.Schema == "":
			return c.Errorf(key+".schema", "is required")
		}
		for j, n := range r.Names {
			if _, err := path.Match(n, ""); err != nil {
				return c.Errorf(fmt.Sprintf("%s.names[%d]", key, j), "%q is not a valid glob", n)
			}
		}
		seenRules[r.ID] = true
	}
	return nil
}

var ruleIDRe = regexp.MustCompile(`^[a-z][a-z0-9-]*$`)

// FormatOfKey returns the payload format a data key's extension implies,
// or "" when it implies none.
func FormatOfKey(key string) string {
	switch strings.ToLower(path.Ext(key)) {
	case ".json":
		return "json"
	case ".yaml", ".yml":
		return "yaml"
	case ".properties":
		return "properties"
	case ".env":
		return "env"
	}
	return ""
}

// checkCompare checks the compare section: rules name registered
// environments, prefixes are names and host names are host names.
func (c *Config) checkCompare(envs map[string]int) error {
	var cmp *yaml.Node
	if c.root != nil && len(c.root.Content) > 0 {
		cmp = manifest.MapValue(c.root.Content[0], "compare")
	}
	var ign *yaml.Node
	if cmp != nil {
		ign = manifest.MapValue(cmp, "ignore")
	}
	if err := checkIgnores(c.file, c.Compare.Ignore, ign, "compare.ignore"); err != nil {
		return err
	}
	for _, m := range []struct {
		key   string
		items map[string]string
		ok    func(string) bool
		want  string
	}{
		{"namePrefixes", c.Compare.NamePrefixes, func(s string) bool { return s == "" || validName(s) }, "a name prefix (letters, digits, '-', '_' and '.')"},
		{"hostnames", c.Compare.Hostnames, validHost, "a host name or domain, e.g. staging.example.com"},
	} {
		for _, env := range slices.Sorted(maps.Keys(m.items)) {
			key := "compare." + m.key + "." + env
			if _, ok := envs[env]; !ok && len(envs) > 0 {
				return c.Errorf(key, "no environment is called %q", env)
			}
			if !m.ok(m.items[env]) {
				return c.Errorf(key, "%q is not %s", m.items[env], m.want)
			}
		}
	}
	return nil
}

var hostRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

func validHost(s string) bool { return len(s) <= 253 && hostRe.MatchString(s) }

// checkIgnores validates ignore rules; seq is their YAML node, for lines.
func checkIgnores(file string, rules []IgnoreRule, seq *yaml.Node, key string) error {
	for i, r := range rules {
		line := 0
		if seq != nil && i < len(seq.Content) {
			line = seq.Content[i].Line
		}
		k := fmt.Sprintf("%s[%d]", key, i)
		if r.Path != "" && !strings.HasPrefix(r.Path, "/") {
			return &ConfigError{File: file, Line: line, Key: k + ".path", Msg: fmt.Sprintf("%q is not a JSON pointer: it must start with / (e.g. /spec/replicas)", r.Path)}
		}
		if _, err := path.Match(r.Name, ""); err != nil {
			return &ConfigError{File: file, Line: line, Key: k + ".name", Msg: fmt.Sprintf("%q is not a valid glob", r.Name)}
		}
		if r.Path == "" && r.Kind == "" && r.Name == "" && r.APIVersion == "" && r.Namespace == "" {
			return &ConfigError{File: file, Line: line, Key: k, Msg: "selects every field of every object; give a path or a selector"}
		}
	}
	return nil
}

func validName(s string) bool {
	if s == "." || s == ".." {
		return false
	}
	for _, r := range s {
		ok := r == '-' || r == '_' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return false
		}
	}
	return true
}

// yamlError turns yaml.v3's messages ("yaml: unmarshal errors:\n  line 4:
// field foo not found in type repo.Config") into file:line: key: message,
// as compilers do, with the keys that are allowed there.
func yamlError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		// The first problem is the one to fix first; the rest usually follow.
		return lineError(file, strings.TrimSpace(te.Errors[0]))
	}
	return lineError(file, strings.TrimPrefix(err.Error(), "yaml: "))
}

var (
	lineRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRe = regexp.MustCompile(`^field (\S+) not found in type repo\.(\w+)$`)
)

func lineError(file, msg string) error {
	ce := &ConfigError{File: file, Msg: msg}
	m := lineRe.FindStringSubmatch(msg)
	if m == nil {
		return ce
	}
	ce.Line, _ = strconv.Atoi(m[1])
	ce.Msg = m[2]
	if u := unknownRe.FindStringSubmatch(m[2]); u != nil {
		ce.Key = u[1]
		ce.Msg = fmt.Sprintf("unknown key (known keys: %s)", strings.Join(knownKeys(u[2]), ", "))
	}
	return ce
}

// knownKeys lists the keys of a config struct, so an unknown-key error can
// say what was meant.
func knownKeys(typeName string) []string {
	var t reflect.Type
	switch typeName {
	case "Config":
		t = reflect.TypeOf(Config{})
	case "Environment":
		t = reflect.TypeOf(Environment{})
	case "IgnoreRule":
		t = reflect.TypeOf(IgnoreRule{})
	case "Compare":
		t = reflect.TypeOf(Compare{})
	case "Drift":
		t = reflect.TypeOf(Drift{})
	case "EnvSecrets":
		t = reflect.TypeOf(EnvSecrets{})
	case "SecretsConfig":
		t = reflect.TypeOf(SecretsConfig{})
	case "SharedRecipient":
		t = reflect.TypeOf(SharedRecipient{})
	case "Contract":
		t = reflect.TypeOf(Contract{})
	case "ContractKey":
		t = reflect.TypeOf(ContractKey{})
	case "Policy":
		t = reflect.TypeOf(Policy{})
	case "PolicyParams":
		t = reflect.TypeOf(PolicyParams{})
	case "PolicyExclude":
		t = reflect.TypeOf(PolicyExclude{})
	case "Rule":
		t = reflect.TypeOf(Rule{})
	default:
		return nil
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]
		if tag != "" && tag != "-" {
			keys = append(keys, tag)
		}
	}
	return keys
}

func keyLine(m *yaml.Node, key string) int {
	if m == nil || m.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i].Line
		}
	}
	return m.Line
}
