// Package manifest finds and parses Kubernetes manifest files, the same
// way wherever a user hands envctl a directory (validate -f, crds:, diff
// --live) or envctl reads a rendered stream.
package manifest

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"
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

// Parse reads a multi-document YAML (or JSON) stream into objects, without
// the reader annotations kio would add.
func Parse(data []byte) ([]*yaml.RNode, error) {
	return (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
}
