// Package atomicwrite writes a set of files into a directory so that a
// failure leaves the directory exactly as it was.
package atomicwrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Files writes each name → content into dir. When dir does not exist, the
// files are written into a fresh directory beside it that is renamed into
// place; when it exists, each file is written beside its final name and all
// are renamed only once every write succeeded. Names must be plain file names.
func Files(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for n := range files {
		if n != filepath.Base(n) || n == "." || n == ".." {
			return fmt.Errorf("invalid output file name %q", n)
		}
		names = append(names, n)
	}
	sort.Strings(names)

	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return fmt.Errorf("exists and is not a directory")
	case err == nil:
		return intoExisting(dir, names, files)
	case errors.Is(err, fs.ErrNotExist):
		return intoNew(dir, names, files)
	default:
		return err
	}
}

func intoExisting(dir string, names []string, files map[string][]byte) error {
	tmps := make([]string, 0, len(names))
	cleanup := func() {
		for _, t := range tmps {
			_ = os.Remove(t)
		}
	}
	for _, n := range names {
		t, err := writeTemp(dir, "."+n+".tmp-*", files[n])
		if t != "" {
			tmps = append(tmps, t)
		}
		if err != nil {
			cleanup()
			return err
		}
	}
	for i, n := range names {
		if err := os.Rename(tmps[i], filepath.Join(dir, n)); err != nil {
			cleanup()
			return err
		}
	}
	return nil
}

func intoNew(dir string, names []string, files map[string][]byte) error {
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(tmp, n), files[n], 0o644); err != nil {
			_ = os.RemoveAll(tmp)
			return err
		}
	}
	// MkdirTemp makes 0700; outputs are for sharing like any build artifact.
	if err := os.Chmod(tmp, 0o755); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		_ = os.RemoveAll(tmp)
		return err
	}
	return nil
}

func writeTemp(dir, pattern string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return f.Name(), err
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return f.Name(), err
	}
	return f.Name(), f.Close()
}

// File writes data to path through a temporary file beside it, so readers
// see the old content or the new, never a part.
func File(path string, data []byte) error {
	st, err := os.Stat(path)
	if err == nil && st.IsDir() {
		return fmt.Errorf("is a directory")
	}
	t, err := writeTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*", data)
	if err != nil {
		if t != "" {
			_ = os.Remove(t)
		}
		return err
	}
	if err := os.Rename(t, path); err != nil {
		_ = os.Remove(t)
		return err
	}
	return nil
}
