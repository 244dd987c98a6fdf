package validate

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/yamlguard"
)

// ReadFiles reads pre-rendered YAML for `validate -f`: files, directories
// (their .yaml, .yml and .json files, sorted) and "-" for stdin. Relative
// names are taken from cwd, and each stream is named as the user wrote it,
// so messages point at what they typed.
//
// A file or stdin larger than maxBytes (yamlguard.DefaultMaxBytes when 0),
// a stream holding an alias bomb, and a name that yields no object at all
// are errors: `kustomize build | envctl validate -f -` must fail when
// kustomize printed nothing, not report zero invalid objects.
//
// Files on disk are mapped into memory, not read (yamlguard.MapFile):
// call Close on the Input once nothing of it or of its report is used.
func ReadFiles(fsys filesys.FileSystem, cwd string, stdin io.Reader, names []string, maxBytes int64) (in Input, err error) {
	defer func() {
		if err != nil {
			in.Close()
			in = Input{}
		}
	}()
	add := func(name string, data []byte) error {
		if err := yamlguard.Check(data); err != nil {
			return fmt.Errorf("-f %s: %w", name, err)
		}
		in.Streams = append(in.Streams, Stream{Name: name, Data: data})
		return nil
	}
	for _, name := range names {
		before := len(in.Streams)
		if name == "-" {
			data, err := yamlguard.ReadAll(stdin, maxBytes)
			if err != nil {
				return in, fmt.Errorf("-f -: reading stdin: %w", err)
			}
			if err := add("-", data); err != nil {
				return in, err
			}
		} else {
			p := name
			if !filepath.IsAbs(p) {
				p = filepath.Join(cwd, p)
			}
			if !fsys.Exists(p) {
				return in, fmt.Errorf("-f %s: no such file or directory", name)
			}
			files := []string{p}
			if fsys.IsDir(p) {
				var err error
				if files, err = manifest.Files(fsys, p); err != nil {
					return in, fmt.Errorf("-f %s: %w", name, err)
				}
			}
			for _, file := range files {
				shown := filepath.ToSlash(filepath.Clean(name))
				if file != p {
					rel, _ := filepath.Rel(p, file)
					shown = filepath.ToSlash(filepath.Join(filepath.Clean(name), rel))
				}
				data, err := readLimited(fsys, file, maxBytes, &in)
				if err != nil {
					return in, fmt.Errorf("-f %s: %w", shown, err)
				}
				if err := add(shown, data); err != nil {
					return in, err
				}
			}
		}
		if !hasDocument(in.Streams[before:]) {
			return in, fmt.Errorf("-f %s: no objects in input", name)
		}
	}
	return in, nil
}

// readLimited reads a file of at most limit bytes, refusing a larger one
// by its size before reading it.
func readLimited(fsys filesys.FileSystem, path string, limit int64, in *Input) ([]byte, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if osf, ok := f.(*os.File); ok {
		data, unmap, ok, err := yamlguard.MapFile(osf, limit)
		if err != nil {
			return nil, err
		}
		if ok {
			in.unmap = append(in.unmap, unmap)
			return data, nil
		}
	}
	if limit <= 0 {
		limit = yamlguard.DefaultMaxBytes
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, &yamlguard.SizeError{Size: st.Size(), Limit: limit}
	}
	return yamlguard.ReadAll(f, limit)
}

func hasDocument(streams []Stream) bool {
	for _, s := range streams {
		if len(splitDocuments(s.Data)) > 0 {
			return true
		}
	}
	return false
}

// Close releases the files ReadFiles mapped. The Input's data, and the
// strings of its report (which share the data's memory), must not be
// used afterwards.
func (in *Input) Close() error {
	var errs []error
	for _, u := range in.unmap {
		errs = append(errs, u())
	}
	in.unmap = nil
	return errors.Join(errs...)
}
