package validate

import (
	"fmt"
	"io"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/manifest"
)

// ReadFiles reads pre-rendered YAML for `validate -f`: files, directories
// (their .yaml, .yml and .json files, sorted) and "-" for stdin. Relative
// names are taken from cwd, and each stream is named as the user wrote it,
// so messages point at what they typed.
func ReadFiles(fsys filesys.FileSystem, cwd string, stdin io.Reader, names []string) (Input, error) {
	var in Input
	for _, name := range names {
		if name == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return in, fmt.Errorf("reading stdin: %w", err)
			}
			in.Streams = append(in.Streams, Stream{Name: "-", Data: data})
			continue
		}
		p := name
		if !filepath.IsAbs(p) {
			p = filepath.Join(cwd, p)
		}
		if !fsys.Exists(p) {
			return in, fmt.Errorf("-f %s: no such file or directory", name)
		}
		if !fsys.IsDir(p) {
			data, err := fsys.ReadFile(p)
			if err != nil {
				return in, fmt.Errorf("-f %s: %w", name, err)
			}
			in.Streams = append(in.Streams, Stream{Name: filepath.ToSlash(filepath.Clean(name)), Data: data})
			continue
		}
		files, err := manifest.Files(fsys, p)
		if err != nil {
			return in, fmt.Errorf("-f %s: %w", name, err)
		}
		for _, file := range files {
			data, err := fsys.ReadFile(file)
			if err != nil {
				return in, fmt.Errorf("-f %s: %w", file, err)
			}
			rel, _ := filepath.Rel(p, file)
			in.Streams = append(in.Streams, Stream{Name: filepath.ToSlash(filepath.Join(filepath.Clean(name), rel)), Data: data})
		}
	}
	return in, nil
}
