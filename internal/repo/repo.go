package repo

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// EnvironmentsDir is where environments are found when there is no envctl.yaml.
const EnvironmentsDir = "environments"

// Repo is an envctl repository: its root and its registered environments.
type Repo struct {
	// Root is the absolute repository root.
	Root string
	// ConfigPath is the absolute path of envctl.yaml, or "" when the
	// environments were discovered from the directory layout.
	ConfigPath string
	// Config is the decoded envctl.yaml, or a zero Config when there is none.
	Config Config

	envs []Environment
}

// FindRoot returns the nearest directory at or above dir that holds
// envctl.yaml, else dir itself.
func FindRoot(fsys filesys.FileSystem, dir string) string {
	for d := dir; ; {
		if fsys.Exists(filepath.Join(d, ConfigFile)) {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// Open loads the repository rooted at root (absolute). With envctl.yaml the
// environments are the ones it lists; without it, every directory
// environments/<name>/ holding a kustomization is one.
func Open(fsys filesys.FileSystem, root string) (*Repo, error) {
	r := &Repo{Root: root}
	cfgPath := filepath.Join(root, ConfigFile)
	if !fsys.Exists(cfgPath) {
		envs, err := discover(fsys, root)
		if err != nil {
			return nil, err
		}
		r.envs = envs
		return r, nil
	}
	data, err := fsys.ReadFile(cfgPath)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", cfgPath, err)
	}
	cfg, err := ParseConfig(cfgPath, data)
	if err != nil {
		return nil, err
	}
	r.ConfigPath, r.Config = cfgPath, *cfg
	for i, e := range cfg.Environments {
		dir := e.Path
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(root, dir)
		}
		if !fsys.IsDir(dir) {
			return nil, &ConfigError{File: cfgPath, Line: e.line, Key: fmt.Sprintf("environments[%d].path", i),
				Msg: fmt.Sprintf("directory %q of environment %q does not exist", e.Path, e.Name)}
		}
		if !HasKustomization(fsys, dir) {
			return nil, &ConfigError{File: cfgPath, Line: e.line, Key: fmt.Sprintf("environments[%d].path", i),
				Msg: fmt.Sprintf("directory %q of environment %q holds no kustomization (%s)", e.Path, e.Name, strings.Join(konfig.RecognizedKustomizationFileNames(), ", "))}
		}
		e.Path = dir
		if s := e.Approval.Signers; s != "" {
			if !filepath.IsAbs(s) {
				s = filepath.Join(root, s)
			}
			if !fsys.Exists(s) {
				return nil, &ConfigError{File: cfgPath, Line: e.line, Key: fmt.Sprintf("environments[%d].approval.signers", i),
					Msg: fmt.Sprintf("allowed-signers file %q does not exist", e.Approval.Signers)}
			}
			e.Approval.Signers = s
		}
		r.envs = append(r.envs, e)
	}
	return r, nil
}

func discover(fsys filesys.FileSystem, root string) ([]Environment, error) {
	dir := filepath.Join(root, EnvironmentsDir)
	if !fsys.IsDir(dir) {
		return nil, nil
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	sort.Strings(names)
	var envs []Environment
	for _, n := range names {
		p := filepath.Join(dir, n)
		if fsys.IsDir(p) && HasKustomization(fsys, p) && validName(n) {
			envs = append(envs, Environment{Name: n, Path: p})
		}
	}
	return envs, nil
}

// HasKustomization reports whether dir holds a file kustomize recognises as
// its kustomization.
func HasKustomization(fsys filesys.FileSystem, dir string) bool {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if fsys.Exists(filepath.Join(dir, n)) {
			return true
		}
	}
	return false
}

// Environments returns the registered environments in registry order.
func (r *Repo) Environments() []Environment {
	return append([]Environment(nil), r.envs...)
}

// Names returns the registered environment names, sorted.
func (r *Repo) Names() []string {
	names := make([]string, 0, len(r.envs))
	for _, e := range r.envs {
		names = append(names, e.Name)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the registered environment called name.
func (r *Repo) Lookup(name string) (Environment, bool) {
	for _, e := range r.envs {
		if e.Name == name {
			return e, true
		}
	}
	return Environment{}, false
}

// UnknownEnvironmentError is returned when an argument names neither a
// registered environment nor a directory.
type UnknownEnvironmentError struct {
	Name  string
	Known []string
	Repo  string
}

func (e *UnknownEnvironmentError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("unknown environment %q: %s registers no environments (add %s or %s/<name>/kustomization.yaml)",
			e.Name, e.Repo, ConfigFile, EnvironmentsDir)
	}
	return fmt.Sprintf("unknown environment %q; known environments: %s", e.Name, strings.Join(e.Known, ", "))
}

// Resolve turns a command-line argument into an environment: a registered
// name, or a path (relative to cwd) to any kustomization directory. An
// argument that looks like a path ("./x", "a/b", ".") is always a path, so a
// directory can never be shadowed by an environment of the same name.
func (r *Repo) Resolve(fsys filesys.FileSystem, cwd, arg string) (Environment, error) {
	looksLikePath := strings.ContainsRune(arg, filepath.Separator) || strings.ContainsRune(arg, '/') || arg == "." || arg == ".."
	if !looksLikePath {
		if e, ok := r.Lookup(arg); ok {
			return e, nil
		}
	}
	p := arg
	if !filepath.IsAbs(p) {
		p = filepath.Join(cwd, p)
	}
	if !fsys.IsDir(p) {
		if looksLikePath {
			return Environment{}, fmt.Errorf("%s: no such directory", arg)
		}
		return Environment{}, &UnknownEnvironmentError{Name: arg, Known: r.Names(), Repo: r.Root}
	}
	if !HasKustomization(fsys, p) {
		return Environment{}, fmt.Errorf("%s: directory holds no kustomization (%s)", arg, strings.Join(konfig.RecognizedKustomizationFileNames(), ", "))
	}
	name := filepath.Base(p)
	if !validName(name) {
		name = "root"
	}
	// A path to a registered environment's directory is that environment,
	// so it keeps its context and namespace.
	for _, e := range r.envs {
		if filepath.Clean(e.Path) == filepath.Clean(p) {
			return e, nil
		}
	}
	return Environment{Name: name, Path: p}, nil
}
