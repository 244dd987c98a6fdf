package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/envctl/envctl/internal/repo"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Factory hands commands what they need, lazily: a command that never asks
// for the repository never reads envctl.yaml.
type Factory struct {
	IO    IOStreams
	FS    filesys.FileSystem
	Getwd func() (string, error)

	// RepoDir is the --repo flag; empty means "search upward from cwd".
	RepoDir string
	// Self is the envctl executable that parallel renders run as worker
	// processes (package worker); empty keeps every render in process,
	// as ENVCTL_INPROCESS does. Run sets it: only the real entry point can
	// re-execute itself.
	Self string

	repo *repo.Repo
}

// NewFactory returns a factory over the real filesystem.
func NewFactory(s IOStreams) *Factory {
	return &Factory{IO: s, FS: filesys.MakeFsOnDisk(), Getwd: os.Getwd}
}

// Repo opens the repository once: --repo if given, else the nearest
// directory upward holding envctl.yaml, else the working directory.
func (f *Factory) Repo() (*repo.Repo, error) {
	if f.repo != nil {
		return f.repo, nil
	}
	cwd, err := f.Getwd()
	if err != nil {
		return nil, err
	}
	root := repo.FindRoot(f.FS, cwd)
	if f.RepoDir != "" {
		root = f.RepoDir
		if !filepath.IsAbs(root) {
			root = filepath.Join(cwd, root)
		}
		if !f.FS.IsDir(root) {
			return nil, usageErrorf("--repo %s: no such directory", f.RepoDir)
		}
	}
	r, err := repo.Open(f.FS, filepath.Clean(root))
	if err != nil {
		return nil, err
	}
	f.repo = r
	return r, nil
}

// Resolve turns command-line arguments into environments, or all of them.
func (f *Factory) Resolve(args []string, all bool) ([]repo.Environment, error) {
	r, err := f.Repo()
	if err != nil {
		return nil, err
	}
	if all {
		if len(args) > 0 {
			return nil, usageErrorf("--all and environment arguments are exclusive")
		}
		envs := r.Environments()
		if len(envs) == 0 {
			return nil, fmt.Errorf("%s registers no environments (add %s, or directories %s/<name>/ with a kustomization)", r.Root, repo.ConfigFile, repo.EnvironmentsDir)
		}
		return envs, nil
	}
	if len(args) == 0 {
		return nil, usageErrorf("name an environment (one of: %s) or pass --all", joinOr(r.Names()))
	}
	cwd, err := f.Getwd()
	if err != nil {
		return nil, err
	}
	var envs []repo.Environment
	seen := map[string]string{}
	for _, a := range args {
		e, err := r.Resolve(f.FS, cwd, a)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[e.Name]; dup {
			return nil, usageErrorf("%s and %s are both environment %q", prev, a, e.Name)
		}
		seen[e.Name] = a
		envs = append(envs, e)
	}
	return envs, nil
}

func joinOr(names []string) string {
	if len(names) == 0 {
		return "none registered"
	}
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
