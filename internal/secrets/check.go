package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// Source is a file an environment's Secrets are made from, and where a
// kustomization names it.
type Source struct {
	// File is the source file.
	File string
	// Kustomization and Line are where the source is named.
	Kustomization string
	Line          int
	// Generator is the secretGenerator's name; "" for a Secret manifest
	// among the resources.
	Generator string
	// Field is "envs", "files" or "resources".
	Field string
	// Key is a files source's data key (its base name, or KEY of
	// KEY=PATH).
	Key string
}

// CheckEnv is one environment as Check sees it.
type CheckEnv struct {
	Name string
	// Dir is the environment's directory: its own sources are those
	// under it. A source outside it (a shared base's placeholders) is no
	// one environment's secret and is not checked.
	Dir              string
	Production       bool
	PlaintextAllowed bool
	Sources          []Source
}

// CheckRequest is what Check judges.
type CheckRequest struct {
	// Root is the repository: findings' files are relative to it.
	Root string
	// Envs are every environment of the repository: a production
	// recipient is looked for in all of them.
	Envs []CheckEnv
	// Check names the environments to report on.
	Check []string
	// Shared are recipients declared shared between production and
	// non-production environments.
	Shared []string
}

// The rules of Check, as findings name them.
const (
	RuleEncrypted       = "secret-encrypted"
	RuleRecipients      = "secret-recipients"
	RuleSharedRecipient = "secret-shared-recipient"
	RulePlaintextFile   = "secret-plaintext-file"
)

// CheckRules describes each rule, for printers.
var CheckRules = map[string]string{
	RuleEncrypted:       "Every secret source of an environment is a SOPS file with every value encrypted (unless the environment allows plaintext).",
	RuleRecipients:      "A SOPS file is encrypted for exactly the age recipients its .sops.yaml creation rule names.",
	RuleSharedRecipient: "No recipient of a production environment's secrets is a recipient of a non-production environment's, unless envctl.yaml declares it shared.",
	RulePlaintextFile:   "No plaintext file lies beside an environment's secret sources (a decrypted copy left behind).",
}

// Finding is one problem with an environment's secret sources. It never
// holds a value.
type Finding struct {
	Env string `json:"environment"`
	// Secret is the secretGenerator the file is a source of, if any.
	Secret  string `json:"secret,omitempty"`
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// CheckReport is the outcome of Check.
type CheckReport struct {
	Envs []string `json:"environments"`
	// Files counts the secret sources checked per environment.
	Files    map[string]int `json:"files"`
	Findings []Finding      `json:"findings"`
}

// Check judges the secret sources of the environments req.Check names.
// It needs no key: recipients and which values are encrypted are in the
// clear in a SOPS file.
func Check(req CheckRequest) (*CheckReport, error) {
	rep := &CheckReport{Envs: req.Check, Files: map[string]int{}, Findings: []Finding{}}
	rel := func(p string) string {
		if r, err := filepath.Rel(req.Root, p); err == nil && !strings.HasPrefix(r, "..") {
			return filepath.ToSlash(r)
		}
		return p
	}
	// Who can decrypt each tier's files, for the shared-recipient rule.
	type holder struct{ env, file string }
	byTier := map[bool]map[string][]holder{true: {}, false: {}}
	parsed := map[string]*File{}
	for _, e := range req.Envs {
		for _, file := range ownFiles(e) {
			b, err := os.ReadFile(file)
			if err != nil || !IsEncrypted(file, b) {
				continue
			}
			f, err := Parse(file, b)
			if err != nil {
				continue
			}
			parsed[file] = f
			for _, r := range f.Recipients() {
				byTier[e.Production][r] = append(byTier[e.Production][r], holder{e.Name, rel(file)})
			}
		}
	}
	configs := map[string]*Config{}
	for _, name := range req.Check {
		i := slices.IndexFunc(req.Envs, func(e CheckEnv) bool { return e.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("secrets check: unknown environment %q", name)
		}
		e := req.Envs[i]
		add := func(file string, line int, rule, format string, args ...any) {
			rep.Findings = append(rep.Findings, Finding{Env: e.Name, Secret: sourceOf(e, file).Generator, File: rel(file), Line: line, Rule: rule, Message: fmt.Sprintf(format, args...)})
		}
		files := ownFiles(e)
		rep.Files[e.Name] = len(files)
		for _, file := range files {
			src := sourceOf(e, file)
			b, err := os.ReadFile(file)
			if errors.Is(err, fs.ErrNotExist) {
				continue // the render says so, with the kustomization's line
			}
			if err != nil {
				return nil, err
			}
			if !IsEncrypted(file, b) {
				if !e.PlaintextAllowed {
					add(file, firstLine(b), RuleEncrypted, "is not SOPS-encrypted (%s at %s:%d); encrypt it: envctl secrets encrypt %s", src, rel(src.Kustomization), src.Line, rel(file))
				}
				continue
			}
			f := parsed[file]
			if f == nil {
				if f, err = Parse(file, b); err != nil {
					var fe *FileError
					if errors.As(err, &fe) {
						add(file, 0, RuleEncrypted, "%s", fe.Problem)
						continue
					}
					return nil, err
				}
			}
			for _, k := range f.plaintextKeys() {
				add(file, keyLine(f.Format, b, k), RuleEncrypted, "key %q is not encrypted (added by hand to a SOPS file?); set it with envctl secrets set or edit it with envctl secrets edit", k)
			}
			// The creation rule that says whom the file is for.
			cfgPath := FindConfig(filepath.Dir(file))
			rline := keyLine(FormatYAML, b, "recipient")
			if f.Format == FormatDotenv {
				rline = keyLine(f.Format, b, "sops_age__list_0__map_recipient")
			} else if f.Format == FormatJSON || f.Format == FormatBinary {
				rline = keyLine(FormatJSON, b, "recipient")
			}
			if cfgPath == "" {
				add(file, rline, RuleRecipients, "no %s in its directory or above says whom it is encrypted for", ConfigName)
			} else {
				cfg, ok := configs[cfgPath]
				if !ok {
					if cfg, err = LoadConfig(cfgPath); err != nil {
						return nil, err
					}
					configs[cfgPath] = cfg
				}
				rule, err := cfg.RuleFor(file)
				switch {
				case err != nil:
					add(file, rline, RuleRecipients, "%s has no creation rule for it (add one whose path_regex matches %s)", rel(cfgPath), rel(file))
				case !sameSet(f.Recipients(), rule.Age):
					add(file, rline, RuleRecipients, "is encrypted for %s; %s:%d (creation_rules[%d]) says %s: run envctl secrets rotate %s",
						listOrNone(f.Recipients()), rel(cfgPath), rule.Line, rule.Index, listOrNone(rule.Age), e.Name)
				}
			}
			// Recipients shared across tiers.
			for _, r := range f.Recipients() {
				if slices.Contains(req.Shared, r) {
					continue
				}
				other := byTier[!e.Production][r]
				if len(other) == 0 {
					continue
				}
				tier, otherTier := "production", "non-production"
				if !e.Production {
					tier, otherTier = otherTier, tier
				}
				add(file, recipientLine(f.Format, b, r), RuleSharedRecipient, "recipient %s of %s environment %s also decrypts %s environment %s (%s); give each its own key, or declare it under secrets.sharedRecipients in envctl.yaml",
					r, tier, e.Name, otherTier, other[0].env, other[0].file)
			}
		}
		if !e.PlaintextAllowed {
			for _, file := range strayPlaintext(e, files) {
				b, _ := os.ReadFile(file)
				add(file, firstLine(b), RulePlaintextFile, "is a plaintext file among %s's secret sources (a decrypted copy?); delete it, or encrypt it: envctl secrets encrypt %s", e.Name, rel(file))
			}
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if a.Env != b.Env {
			return slices.Index(req.Check, a.Env) < slices.Index(req.Check, b.Env)
		}
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Rule < b.Rule
	})
	return rep, nil
}

func (s Source) String() string {
	switch {
	case s.Generator != "" && s.Field == "files":
		return fmt.Sprintf("secretGenerator %q files (key %s)", s.Generator, s.Key)
	case s.Generator != "":
		return fmt.Sprintf("secretGenerator %q %s", s.Generator, s.Field)
	}
	return "a Secret among the resources"
}

// ownFiles are the environment's own source files, once each, sorted.
func ownFiles(e CheckEnv) []string {
	var out []string
	for _, s := range e.Sources {
		if within(e.Dir, s.File) && !slices.Contains(out, s.File) {
			out = append(out, s.File)
		}
	}
	sort.Strings(out)
	return out
}

func sourceOf(e CheckEnv, file string) Source {
	for _, s := range e.Sources {
		if s.File == file {
			return s
		}
	}
	return Source{File: file}
}

func within(dir, p string) bool {
	r, err := filepath.Rel(dir, p)
	return err == nil && r != ".." && !strings.HasPrefix(r, "../")
}

// strayPlaintext lists plaintext files in the directories that hold the
// environment's generator sources, other than the sources themselves.
// A directory with a kustomization is not a secrets directory: its
// manifests and patches are plaintext by design.
func strayPlaintext(e CheckEnv, sources []string) []string {
	dirs := map[string]bool{}
	for _, s := range e.Sources {
		if s.Field != "resources" && within(e.Dir, s.File) {
			dirs[filepath.Dir(s.File)] = true
		}
	}
	var out []string
	for dir := range dirs {
		if hasKustomization(dir) {
			continue
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, en := range entries {
			name := en.Name()
			p := filepath.Join(dir, name)
			if !en.Type().IsRegular() || strings.HasPrefix(name, ".") || strings.HasPrefix(strings.ToLower(name), "readme") || slices.Contains(sources, p) {
				continue
			}
			if b, err := os.ReadFile(p); err == nil && !IsEncrypted(p, b) {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

// plaintextKeys lists the keys whose values the file's rules say are
// encrypted but are not: values added to a SOPS file by hand.
func (f *File) plaintextKeys() []string {
	var out []string
	walk(f.tree, f.meta.rules, func(n *node, p []string) (*node, error) {
		if n.kind == scalarNode && n.value != "" && !strings.HasPrefix(n.value, "ENC[AES256_GCM,") {
			k := strings.Join(p, ".")
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		return n, nil
	})
	return out
}

// keyLine finds the 1-based line where a key of the file is written (its
// last path element), or 0.
func keyLine(format Format, b []byte, key string) int {
	if i := strings.LastIndexByte(key, '.'); i >= 0 && format != FormatDotenv {
		key = key[i+1:]
	}
	for i, line := range bytes.Split(b, []byte("\n")) {
		l := strings.TrimLeft(string(line), " \t-")
		switch format {
		case FormatDotenv:
			if strings.HasPrefix(l, key+"=") {
				return i + 1
			}
		case FormatJSON, FormatBinary:
			if strings.HasPrefix(l, `"`+key+`":`) {
				return i + 1
			}
		default:
			if strings.HasPrefix(l, key+":") {
				return i + 1
			}
		}
	}
	return 0
}

// recipientLine finds the line naming recipient r, or 0.
func recipientLine(_ Format, b []byte, r string) int {
	for i, line := range bytes.Split(b, []byte("\n")) {
		if bytes.Contains(line, []byte(r)) {
			return i + 1
		}
	}
	return 0
}

// firstLine is the first line that is not blank or a comment: where a
// plaintext file's first value is.
func firstLine(b []byte) int {
	for i, line := range bytes.Split(b, []byte("\n")) {
		l := bytes.TrimSpace(line)
		if len(l) > 0 && l[0] != '#' {
			return i + 1
		}
	}
	return 1
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	for i := range x {
		x[i] = strings.TrimSpace(x[i])
	}
	for i := range y {
		y[i] = strings.TrimSpace(y[i])
	}
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "no age recipient"
	}
	return strings.Join(l, ", ")
}

func hasKustomization(dir string) bool {
	for _, n := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}
