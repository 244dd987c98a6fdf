// Package manifest finds Kubernetes manifest files, the same way wherever
// a user hands envctl a directory (validate -f, crds:, diff --live).
package manifest

import (
	"os"
	"sort"
	"strings"

	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Files returns the *.yaml, *.yml and *.json files under dir, recursively,
// sorted.
func Files(fsys filesys.FileSystem, dir string) ([]string, error) {
	var files []string
	err := fsys.Walk(dir, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			files = append(files, path)
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}
