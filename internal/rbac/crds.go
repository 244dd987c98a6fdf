package rbac

import (
	"fmt"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
)

// ReadCRDs reads the objects of the repository's crds: entries (files or
// directories, relative to root); For picks the CustomResourceDefinitions
// among them.
func ReadCRDs(fsys filesys.FileSystem, root string, entries []string) ([]*yaml.RNode, error) {
	var out []*yaml.RNode
	for _, entry := range entries {
		p := filepath.Join(root, entry)
		files := []string{p}
		if fsys.IsDir(p) {
			var err error
			if files, err = manifest.Files(fsys, p); err != nil {
				return nil, fmt.Errorf("crds: %s: %w", entry, err)
			}
		}
		for _, f := range files {
			data, err := fsys.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("crds: %w", err)
			}
			objs, err := manifest.Parse(data)
			if err != nil {
				return nil, fmt.Errorf("crds: %s: %w", manifest.RelPath(root, f), err)
			}
			out = append(out, objs...)
		}
	}
	return out, nil
}
