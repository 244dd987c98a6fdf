package secrets

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
)

// ConfigName is sops' configuration file, found as sops finds it: in the
// working directory or the nearest directory above it.
const ConfigName = ".sops.yaml"

// Config is a .sops.yaml: the creation rules that say, by path, which
// recipients a new or re-encrypted file is encrypted for.
type Config struct {
	Path  string
	Rules []CreationRule
}

// CreationRule is one of .sops.yaml's creation_rules.
type CreationRule struct {
	Index     int    // position in creation_rules
	Line      int    // line in .sops.yaml
	PathRegex string // "" matches every file
	Age       []string
	// Other lists the key types besides age the rule names (kms, pgp,
	// ...), which envctl cannot encrypt for.
	Other             []string
	UnencryptedSuffix string
	EncryptedRegex    string
	re                *regexp.Regexp
}

type rawRule struct {
	PathRegex         string    `yaml:"path_regex"`
	Age               any       `yaml:"age"`
	KeyGroups         []rawRule `yaml:"key_groups"`
	UnencryptedSuffix string    `yaml:"unencrypted_suffix"`
	EncryptedRegex    string    `yaml:"encrypted_regex"`
	KMS               any       `yaml:"kms"`
	PGP               any       `yaml:"pgp"`
	GCPKMS            any       `yaml:"gcp_kms"`
	Azure             any       `yaml:"azure_keyvault"`
	Vault             any       `yaml:"hc_vault_transit_uri"`
	HCKMS             any       `yaml:"hckms"`
}

// FindConfig returns the .sops.yaml in dir or the nearest directory above
// it, or "" when there is none.
func FindConfig(dir string) string {
	d, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(d, ConfigName)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

// LoadConfig reads a .sops.yaml.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml3.Node
	if err := yaml3.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	c := &Config{Path: path}
	if len(doc.Content) == 0 {
		return c, nil
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value != "creation_rules" {
			continue
		}
		seq := top.Content[i+1]
		for j, rn := range seq.Content {
			var r rawRule
			if err := rn.Decode(&r); err != nil {
				return nil, fmt.Errorf("%s:%d: creation_rules[%d]: %s", path, rn.Line, j, strings.TrimPrefix(err.Error(), "yaml: "))
			}
			cr := CreationRule{Index: j, Line: rn.Line, PathRegex: r.PathRegex, UnencryptedSuffix: r.UnencryptedSuffix, EncryptedRegex: r.EncryptedRegex}
			add := func(r rawRule) {
				cr.Age = append(cr.Age, keyList(r.Age)...)
				for name, v := range map[string]any{"kms": r.KMS, "pgp": r.PGP, "gcp_kms": r.GCPKMS, "azure_keyvault": r.Azure, "hc_vault_transit_uri": r.Vault, "hckms": r.HCKMS} {
					if len(keyList(v)) > 0 {
						cr.Other = append(cr.Other, name)
					}
				}
			}
			add(r)
			for _, g := range r.KeyGroups {
				add(g)
			}
			if r.PathRegex != "" {
				re, err := regexp.Compile(r.PathRegex)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: creation_rules[%d].path_regex does not compile: %v", path, rn.Line, j, err)
				}
				cr.re = re
			}
			for _, a := range cr.Age {
				if _, err := ParseRecipient(a); err != nil {
					return nil, fmt.Errorf("%s:%d: creation_rules[%d].age: %v", path, rn.Line, j, err)
				}
			}
			c.Rules = append(c.Rules, cr)
		}
	}
	return c, nil
}

// keyList reads a key field as sops does: a comma-separated string or a
// list of strings.
func keyList(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []any:
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, keyList(s)...)
			}
		}
	}
	return out
}

// ErrNoRule is returned by RuleFor when no creation rule matches.
var ErrNoRule = errors.New("no creation rule matches")

// RuleFor returns the first rule whose path_regex matches file, which is
// matched relative to the directory of .sops.yaml, as sops does.
func (c *Config) RuleFor(file string) (*CreationRule, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	rel := strings.TrimPrefix(abs, filepath.Dir(c.Path)+string(filepath.Separator))
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.re == nil || r.re.MatchString(filepath.ToSlash(rel)) {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s: %w %s (add a rule whose path_regex matches it)", c.Path, ErrNoRule, rel)
}

// Options are the encryption options the rule gives.
func (r *CreationRule) Options(file string) (EncryptOptions, error) {
	if len(r.Age) == 0 {
		other := strings.Join(r.Other, ", ")
		if other == "" {
			other = "none"
		}
		return EncryptOptions{}, fmt.Errorf("creation_rules[%d] (line %d), which matches %s, names no age recipient (key types: %s); envctl encrypts for age only", r.Index, r.Line, file, other)
	}
	return EncryptOptions{Recipients: r.Age, UnencryptedSuffix: r.UnencryptedSuffix, EncryptedRegex: r.EncryptedRegex}, nil
}
