package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
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
}

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

	line int
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
	if cfg.APIVersion != ConfigAPIVersion {
		return nil, &ConfigError{File: file, Line: keyLine(root.Content[0], "apiVersion"), Key: "apiVersion",
			Msg: fmt.Sprintf("got %q, want %q", cfg.APIVersion, ConfigAPIVersion)}
	}
	if cfg.Kind != ConfigKind {
		return nil, &ConfigError{File: file, Line: keyLine(root.Content[0], "kind"), Key: "kind",
			Msg: fmt.Sprintf("got %q, want %q", cfg.Kind, ConfigKind)}
	}
	if envs := valueOf(root.Content[0], "environments"); envs != nil && envs.Kind == yaml.SequenceNode {
		for i := range cfg.Environments {
			if i < len(envs.Content) {
				cfg.Environments[i].line = envs.Content[i].Line
			}
		}
	}
	if err := checkIgnores(file, cfg.Ignore, valueOf(root.Content[0], "ignore"), "ignore"); err != nil {
		return nil, err
	}
	envNodes := valueOf(root.Content[0], "environments")
	for i := range cfg.Environments {
		var n *yaml.Node
		if envNodes != nil && i < len(envNodes.Content) {
			n = valueOf(envNodes.Content[i], "ignore")
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
		}
		if j, dup := seen[e.Name]; dup {
			return nil, &ConfigError{File: file, Line: e.line, Key: key + ".name",
				Msg: fmt.Sprintf("duplicate environment name %q (first defined at environments[%d])", e.Name, j)}
		}
		seen[e.Name] = i
	}
	return &cfg, nil
}

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

func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
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
