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

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/yamlguard"
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
// the reader annotations kio would add. A stream whose aliases stand for
// more nodes than yamlguard allows is refused before parsing: kyaml keeps
// aliases, but everything that walks the objects afterwards expands them.
func Parse(data []byte) ([]*yaml.RNode, error) {
	if err := yamlguard.Check(data); err != nil {
		return nil, err
	}
	return (&kio.ByteReader{Reader: bytes.NewReader(data), OmitReaderAnnotations: true}).Read()
}

// GeneratedName reports whether name is base, or base with the suffix a
// kustomize generator appends ("-" and ten characters of its hash
// alphabet). "app-config-5f7k2m9h8t" is app-config; "app-config-v2" and
// "app" are not.
func GeneratedName(name, base string) bool {
	if name == base {
		return true
	}
	if len(name) != len(base)+11 || !strings.HasPrefix(name, base) || name[len(base)] != '-' {
		return false
	}
	for _, r := range name[len(base)+1:] {
		if !strings.ContainsRune("245678bcdfghkmt9", r) {
			return false
		}
	}
	return true
}

// RelPath is p relative to root, slash-separated, as a user names a file
// of the repository; p itself when it is not below root.
func RelPath(root, p string) string {
	if r, err := filepath.Rel(root, p); err == nil && r != ".." && !strings.HasPrefix(r, "../") {
		return filepath.ToSlash(r)
	}
	return p
}

// MapValue is the value node of key in the YAML mapping m, or nil.
func MapValue(m *yaml3.Node, key string) *yaml3.Node {
	if m == nil || m.Kind != yaml3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}
