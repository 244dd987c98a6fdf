// Package atomicwrite writes a set of files into a directory so that a
// failure leaves the directory exactly as it was.
package atomicwrite

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
)

// Staging writes files into a directory as each becomes ready, so a caller
// need not hold them all in memory, and makes them visible together on
// Commit. Until then nothing in the directory changes: when it does not
// exist, the files go into a fresh directory beside it that Commit renames
// into place; when it exists, each file is written beside its final name and
// Commit renames them all. Abort removes everything written. Write is safe
// for concurrent use.
type Staging struct {
	dir string
	// tmpDir is the directory that becomes dir, when dir did not exist.
	tmpDir string
	// madeParents are the missing ancestors of dir that Stage created,
	// outermost first; Abort removes them so a failed command leaves none.
	madeParents []string
	mu          sync.Mutex
	tmps        map[string]string // name → temporary path, when dir existed
	done        bool
}

// Stage starts writing into dir. It fails at once when dir cannot be
// written, before any work is spent producing the files.
func Stage(dir string) (*Staging, error) {
	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("exists and is not a directory")
	case err == nil:
		// Probe now: a read-only directory should fail the command before
		// any rendering, not after.
		t, err := writeTemp(dir, ".envctl-probe-*", nil)
		if t != "" {
			_ = os.Remove(t)
		}
		if err != nil {
			return nil, err
		}
		return &Staging{dir: dir, tmps: map[string]string{}}, nil
	case errors.Is(err, fs.ErrNotExist):
		parent := filepath.Dir(dir)
		made, err := mkdirAll(parent)
		if err != nil {
			return nil, err
		}
		tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-*")
		if err != nil {
			removeMade(made)
			return nil, err
		}
		return &Staging{dir: dir, tmpDir: tmp, madeParents: made}, nil
	default:
		return nil, err
	}
}

// Write stages one file. Writing the same name twice replaces it.
func (s *Staging) Write(name string, data []byte) error {
	if name != filepath.Base(name) || name == "." || name == ".." || name == "" {
		return fmt.Errorf("invalid output file name %q", name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return fmt.Errorf("staging of %s already finished", s.dir)
	}
	if s.tmpDir != "" {
		return os.WriteFile(filepath.Join(s.tmpDir, name), data, 0o644)
	}
	t, err := writeTemp(s.dir, "."+name+".tmp-*", data)
	if err != nil {
		if t != "" {
			_ = os.Remove(t)
		}
		return err
	}
	if old, ok := s.tmps[name]; ok {
		_ = os.Remove(old)
	}
	s.tmps[name] = t
	return nil
}

// Commit makes every staged file visible under its final name.
func (s *Staging) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return fmt.Errorf("staging of %s already finished", s.dir)
	}
	s.done = true
	if s.tmpDir != "" {
		// MkdirTemp makes 0700; outputs are for sharing like any build artifact.
		err := os.Chmod(s.tmpDir, 0o755)
		if err == nil {
			err = os.Rename(s.tmpDir, s.dir)
		}
		if err != nil {
			// As Abort: a failed command leaves nothing it created.
			_ = os.RemoveAll(s.tmpDir)
			removeMade(s.madeParents)
		}
		return err
	}
	names := make([]string, 0, len(s.tmps))
	for n := range s.tmps {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, n := range names {
		if err := os.Rename(s.tmps[n], filepath.Join(s.dir, n)); err != nil {
			for _, rest := range names[i:] {
				_ = os.Remove(s.tmps[rest])
			}
			return err
		}
	}
	return nil
}

// Abort removes everything staged; the directory is as it was. It is a
// no-op after Commit.
func (s *Staging) Abort() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
	}
	s.done = true
	if s.tmpDir != "" {
		_ = os.RemoveAll(s.tmpDir)
		removeMade(s.madeParents)
		return
	}
	for _, t := range s.tmps {
		_ = os.Remove(t)
	}
}

// mkdirAll is os.MkdirAll that reports which directories it created,
// outermost first.
func mkdirAll(dir string) ([]string, error) {
	var missing []string
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		if _, err := os.Stat(d); err == nil || !errors.Is(err, fs.ErrNotExist) {
			break
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	slices.Reverse(missing)
	return missing, nil
}

// removeMade removes directories mkdirAll created, innermost first, and
// only while they are empty.
func removeMade(made []string) {
	for i := len(made) - 1; i >= 0; i-- {
		if os.Remove(made[i]) != nil {
			return
		}
	}
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
