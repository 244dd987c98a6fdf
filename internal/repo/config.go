package repo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
