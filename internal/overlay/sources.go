package overlay

import (
	"bytes"
	"path/filepath"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/secrets"
)

// SecretSources lists the local secret sources of the environment in
// dir, in the order kustomize reads them: each secretGenerator's envs and
// files, and every resource file that holds a Secret or is a SOPS file (an
// encrypted manifest's kind is ciphertext, and nobody encrypts one that is
// not a Secret). Remote bases are left out; each directory is read once.
func SecretSources(fsys filesys.FileSystem, dir string) []secrets.Source {
	var out []secrets.Source
	seen := map[string]bool{}
	var visit func(dir string)
	visit = func(dir string) {
		dir = filepath.Clean(dir)
		if seen[dir] || len(seen) > maxCauseVisits {
			return
		}
		seen[dir] = true
		kfile, root := readKustomization(fsys, dir)
		if root == nil {
			return
		}
		for _, g := range seqOf(root, "secretGenerator") {
			name := scalar(g, "name")
			for _, field := range []string{"envs", "env", "files"} {
				v := manifest.MapValue(g, field)
				if v == nil {
					continue
				}
				items := []*yaml3.Node{v}
				if v.Kind == yaml3.SequenceNode {
					items = v.Content
				}
				for _, it := range items {
					if it.Kind != yaml3.ScalarNode || it.Value == "" {
						continue
					}
					s := secrets.Source{Kustomization: kfile, Line: it.Line, Generator: name, Field: field}
					if field == "env" {
						s.Field = "envs"
					}
					p := it.Value
					if field == "files" {
						s.Key = filepath.Base(p)
						if k, path, ok := strings.Cut(p, "="); ok {
							s.Key, p = k, path
						}
					}
					s.File = filepath.Join(dir, p)
					out = append(out, s)
				}
			}
		}
		for _, field := range []string{"resources", "bases", "components"} {
			for _, it := range seqOf(root, field) {
				ref := it.Value
				if it.Kind != yaml3.ScalarNode || ref == "" || IsRemote(ref) {
					continue
				}
				p := filepath.Join(dir, ref)
				if fsys.IsDir(p) {
					visit(p)
					continue
				}
				b, err := fsys.ReadFile(p)
				if err != nil {
					continue
				}
				if secrets.IsEncrypted(p, b) || holdsSecret(b) {
					out = append(out, secrets.Source{File: p, Kustomization: kfile, Line: it.Line, Field: "resources"})
				}
			}
		}
	}
	visit(dir)
	return out
}

func readKustomization(fsys filesys.FileSystem, dir string) (string, *yaml3.Node) {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, n)
		b, err := fsys.ReadFile(p)
		if err != nil {
			continue
		}
		var doc yaml3.Node
		if yaml3.Unmarshal(b, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.MappingNode {
			return "", nil
		}
		return p, doc.Content[0]
	}
	return "", nil
}

func seqOf(m *yaml3.Node, key string) []*yaml3.Node {
	v := manifest.MapValue(m, key)
	if v == nil || v.Kind != yaml3.SequenceNode {
		return nil
	}
	return v.Content
}

// holdsSecret reports whether a YAML stream has a document of kind
// Secret.
func holdsSecret(b []byte) bool {
	if !bytes.Contains(b, []byte("Secret")) {
		return false
	}
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Kind string `yaml:"kind"`
		}
		if err := dec.Decode(&doc); err != nil {
			return false
		}
		if doc.Kind == "Secret" {
			return true
		}
	}
}
