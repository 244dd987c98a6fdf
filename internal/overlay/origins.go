package overlay

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
)

// originAnnotation is where kustomize records an object's origin when a
// kustomization sets buildMetadata: [originAnnotations].
const originAnnotation = "config.kubernetes.io/origin"

// ObjectID identifies a rendered object.
type ObjectID struct {
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
}

// Origin is where a rendered object is defined.
type Origin struct {
	// File is slash-separated and relative to the root given to Origins,
	// or absolute when it lies outside it.
	File string
	// Line is the 1-based line of the object's manifest, or of the
	// generator that made it; 0 when unknown.
	Line int
	// Doc is the object's document in File, for the lines of its fields;
	// nil when only the object's line is known (generated objects).
	Doc *yaml3.Node
}

// Origins maps the objects an environment renders to the files that
// define them (paths relative to root). It renders the environment again
// with kustomize's origin annotations switched on, through a filesystem
// that adds buildMetadata: [originAnnotations] to the environment's own
// kustomization as it is read; nothing is written, and the names and
// content of the objects are those of a normal render (the annotation
// does not enter generators' hashes). An object from a remote base has no
// local file and is left out.
//
// The file is where the object's manifest is (patches that change it
// later are not tracked by kustomize); a generated ConfigMap or Secret
// maps to the kustomization that declares its generator, at the
// generator's line.
//
// It lives beside Render because it is a render: checkers (package
// validate) get its answer through a callback and never render.
func Origins(ctx context.Context, fsys filesys.FileSystem, root, envDir string, opts Options) (map[ObjectID]Origin, error) {
	ofs := &originFS{FileSystem: fsys, dir: filepath.Clean(envDir)}
	res, err := Render(ctx, ofs, envDir, opts)
	if err != nil {
		return nil, err
	}
	files := map[string][]*yaml3.Node{}
	parse := func(abs string) []*yaml3.Node {
		if nodes, ok := files[abs]; ok {
			return nodes
		}
		data, err := fsys.ReadFile(abs)
		var nodes []*yaml3.Node
		if err == nil {
			dec := yaml3.NewDecoder(bytes.NewReader(data))
			for {
				var n yaml3.Node
				if err := dec.Decode(&n); err != nil {
					break
				}
				if len(n.Content) > 0 {
					nodes = append(nodes, n.Content[0])
				}
			}
		}
		files[abs] = nodes
		return nodes
	}
	out := map[ObjectID]Origin{}
	dec := yaml3.NewDecoder(bytes.NewReader(res.YAML))
	for {
		var doc struct {
			APIVersion string `yaml:"apiVersion"`
			Kind       string `yaml:"kind"`
			Metadata   struct {
				Name        string            `yaml:"name"`
				Namespace   string            `yaml:"namespace"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
		}
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
		var origin struct {
			Path         string `yaml:"path"`
			Repo         string `yaml:"repo"`
			ConfiguredIn string `yaml:"configuredIn"`
			ConfiguredBy struct {
				Kind string `yaml:"kind"`
			} `yaml:"configuredBy"`
		}
		if yaml3.Unmarshal([]byte(doc.Metadata.Annotations[originAnnotation]), &origin) != nil || origin.Repo != "" {
			continue
		}
		o := ObjectID{APIVersion: doc.APIVersion, Kind: doc.Kind, Namespace: doc.Metadata.Namespace, Name: doc.Metadata.Name}
		switch {
		case origin.Path != "":
			abs := filepath.Join(envDir, origin.Path)
			node := findManifest(parse(abs), doc.Kind, doc.Metadata.Name)
			or := Origin{File: manifest.RelPath(root, abs), Doc: node}
			if node != nil {
				or.Line = node.Line
			}
			out[o] = or
		case origin.ConfiguredIn != "":
			abs := filepath.Join(envDir, origin.ConfiguredIn)
			list := map[string]string{"ConfigMapGenerator": "configMapGenerator", "SecretGenerator": "secretGenerator"}[origin.ConfiguredBy.Kind]
			or := Origin{File: manifest.RelPath(root, abs)}
			if nodes := parse(abs); len(nodes) > 0 {
				or.Line = generatorLine(nodes[0], list, doc.Metadata.Name)
			}
			out[o] = or
		}
	}
	return out, nil
}

// findManifest finds an object's document in a file: same kind and name,
// or a name the rendered one contains (prefixes, suffixes), or the only
// document of that kind.
func findManifest(docs []*yaml3.Node, kind, name string) *yaml3.Node {
	var sameKind []*yaml3.Node
	for _, d := range docs {
		if scalar(d, "kind") != kind {
			continue
		}
		n := scalar(manifest.MapValue(d, "metadata"), "name")
		if n == name {
			return d
		}
		if n != "" && strings.Contains(name, n) {
			sameKind = slices.Insert(sameKind, 0, d)
		} else {
			sameKind = append(sameKind, d)
		}
	}
	if len(sameKind) > 0 {
		return sameKind[0]
	}
	if len(docs) == 1 {
		return docs[0]
	}
	return nil
}

// generatorLine finds the line of a generator in a kustomization by the
// name of what it generated (the generator's name plus a hash suffix).
func generatorLine(k *yaml3.Node, list, generated string) int {
	seq := manifest.MapValue(k, list)
	if seq == nil || seq.Kind != yaml3.SequenceNode {
		return 0
	}
	for _, g := range seq.Content {
		if n := scalar(g, "name"); n != "" && manifest.GeneratedName(generated, n) {
			return g.Line
		}
	}
	for _, g := range seq.Content {
		if n := scalar(g, "name"); n != "" && strings.Contains(generated, n) {
			return g.Line
		}
	}
	return seq.Line
}

func scalar(m *yaml3.Node, key string) string {
	if v := manifest.MapValue(m, key); v != nil && v.Kind == yaml3.ScalarNode {
		return v.Value
	}
	return ""
}

// originFS serves the kustomization of dir with origin annotations
// switched on, and everything else as it is.
type originFS struct {
	filesys.FileSystem
	dir string
}

func (o *originFS) ReadFile(path string) ([]byte, error) {
	data, err := o.FileSystem.ReadFile(path)
	if err != nil || filepath.Dir(filepath.Clean(path)) != o.dir || !slices.Contains(konfig.RecognizedKustomizationFileNames(), filepath.Base(path)) {
		return data, err
	}
	return withOriginAnnotations(data)
}

func withOriginAnnotations(data []byte) ([]byte, error) {
	node, err := kyaml.Parse(string(data))
	if err != nil {
		return data, nil // kustomize reports it
	}
	var values []string
	if bm, err := node.Pipe(kyaml.Lookup("buildMetadata")); err == nil && bm != nil {
		for _, n := range bm.YNode().Content {
			values = append(values, n.Value)
		}
	}
	if slices.Contains(values, "originAnnotations") {
		return data, nil
	}
	values = append(values, "originAnnotations")
	if err := node.PipeE(kyaml.SetField("buildMetadata", kyaml.NewListRNode(values...))); err != nil {
		return nil, err
	}
	s, err := node.String()
	if err != nil {
		return nil, err
	}
	return []byte(s), nil
}
