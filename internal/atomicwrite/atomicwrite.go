// Package atomicwrite writes a set of files into a directory so that a
// failure leaves the directory exactly as it was.
//
// Files may hold Secrets (a rendered environment, a snapshot), so they are
// created 0600 (less if the umask says so) and a file that is replaced
// keeps its mode: envctl never makes a file readable by more users than
// before. Directories it creates get 0777 less the umask, as mkdir(1)
// would. Temporary files carry the writer's process id, so a later run
// can sweep those a killed run left behind (sweep).
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

// rename is os.Rename; tests replace it to fail a commit half way.
var rename = os.Rename

// Staging writes files into a directory as each becomes ready, so a caller
// need not hold them all in memory, and makes them visible together on
// Commit. Until then nothing in the directory changes: when it does not
// exist, the files go into a fresh directory beside it that Commit renames
// into place; when it exists, each file is written beside its final name and
// Commit renames them all, restoring the old files if a rename fails. Abort
// removes everything written. Write is safe for concurrent use.
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
// written, before any work is spent producing the files, and sweeps the
// temporary files of runs that were killed.
func Stage(dir string) (*Staging, error) {
	info, err := os.Stat(dir)
	switch {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("exists and is not a directory")
	case err == nil:
		sweep(dir)
		// Probe now: a read-only directory should fail the command before
		// any rendering, not after.
		t, err := writeTemp(dir, ".envctl-probe", nil, 0)
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
		if len(made) == 0 {
			sweep(parent)
		}
		tmp, err := mkdirTemp(parent, "."+filepath.Base(dir))
		if err != nil {
			removeMade(made)
			return nil, err
		}
		return &Staging{dir: dir, tmpDir: tmp, madeParents: made}, nil
	default:
		return nil, err
	}
}

// Write stages one file. Writing the same name twice replaces it. A name
// whose target cannot be replaced by a file (a directory) fails here,
// before the other files are produced.
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
		// Nobody sees the directory before Commit renames it.
		return os.WriteFile(filepath.Join(s.tmpDir, name), data, 0o600)
	}
	final := filepath.Join(s.dir, name)
	mode, err := targetMode(final)
	if err != nil {
		return err
	}
	t, err := writeTemp(s.dir, "."+name, data, mode)
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

// targetMode is the mode a file replacing path keeps: path's own when it
// is a file, 0 (new: 0600 less the umask) when it does not exist. A
// directory in the way is an error.
func targetMode(path string) (fs.FileMode, error) {
	st, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case err != nil:
		return 0, err
	case st.IsDir():
		return 0, fmt.Errorf("%s: is a directory", filepath.Base(path))
	case st.Mode().IsRegular():
		return st.Mode().Perm(), nil
	}
	// A symbolic link or other special file is replaced by a new file.
	return 0, nil
}

// Commit makes every staged file visible under its final name. Every
// target is checked before the first rename; if a rename still fails, the
// files already renamed are put back as they were.
func (s *Staging) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return fmt.Errorf("staging of %s already finished", s.dir)
	}
	s.done = true
	if s.tmpDir != "" {
		err := rename(s.tmpDir, s.dir)
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
	removeTmps := func() {
		for _, n := range names {
			_ = os.Remove(s.tmps[n])
		}
	}
	// Check every target now, so that a directory in the way of the last
	// file fails the commit before the first file is replaced.
	for _, n := range names {
		if _, err := targetMode(filepath.Join(s.dir, n)); err != nil {
			removeTmps()
			return err
		}
	}
	// Keep each old file under a second name until all are replaced.
	backups := map[string]string{}
	restore := func() {
		for n, b := range backups {
			if b == "" {
				_ = os.Remove(filepath.Join(s.dir, n))
			} else {
				_ = os.Rename(b, filepath.Join(s.dir, n))
			}
		}
	}
	for _, n := range names {
		final := filepath.Join(s.dir, n)
		b, err := backup(s.dir, final)
		if err != nil {
			restore()
			removeTmps()
			return fmt.Errorf("%s: keeping the old file until the new ones are in place: %w", n, err)
		}
		if err := rename(s.tmps[n], final); err != nil {
			if b != "" {
				_ = os.Remove(b)
			}
			restore()
			removeTmps()
			return err
		}
		backups[n] = b
	}
	for _, b := range backups {
		if b != "" {
			_ = os.Remove(b)
		}
	}
	return nil
}

// backup links path to a temporary name beside it and returns that name,
// or "" when path does not exist. A hard link costs no copy and keeps the
// old file's mode and content for restore.
func backup(dir, path string) (string, error) {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	for range 100 {
		b := tempName(dir, "."+filepath.Base(path)+".bak")
		err := os.Link(path, b)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return b, err
	}
	return "", fmt.Errorf("no free temporary name in %s", dir)
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
// outermost first. They get 0777 less the umask, as mkdir -p makes them.
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
	if err := os.MkdirAll(dir, 0o777); err != nil {
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

// mkdirTemp creates a new directory named like prefix in parent with mode
// 0777 less the umask (os.MkdirTemp's 0700 would then need a chmod that
// ignores the umask).
func mkdirTemp(parent, prefix string) (string, error) {
	for range 100 {
		d := tempName(parent, prefix)
		err := os.Mkdir(d, 0o777)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		return d, nil
	}
	return "", fmt.Errorf("no free temporary name in %s", parent)
}

// writeTemp writes data to a new file named like prefix in dir. The file is
// created 0600, which the umask can only narrow; with mode set (the file it
// will replace), it gets that mode instead.
func writeTemp(dir, prefix string, data []byte, mode fs.FileMode) (string, error) {
	var f *os.File
	for range 100 {
		name := tempName(dir, prefix)
		var err error
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		break
	}
	if f == nil {
		return "", fmt.Errorf("no free temporary name in %s", dir)
	}
	if mode != 0 {
		// The old file's mode, even when wider than 0600: its owner chose
		// it, and a narrower one would break whoever reads it today.
		if err := f.Chmod(mode); err != nil {
			f.Close()
			return f.Name(), err
		}
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return f.Name(), err
	}
	return f.Name(), f.Close()
}

// File writes data to path through a temporary file beside it, so readers
// see the old content or the new, never a part. A new file is 0600 (less
// the umask); an existing one keeps its mode.
func File(path string, data []byte) error {
	mode, err := targetMode(path)
	if err != nil {
		return fmt.Errorf("is a directory")
	}
	dir := filepath.Dir(path)
	sweep(dir)
	t, err := writeTemp(dir, "."+filepath.Base(path), data, mode)
	if err != nil {
		if t != "" {
			_ = os.Remove(t)
		}
		return err
	}
	if err := rename(t, path); err != nil {
		_ = os.Remove(t)
		return err
	}
	return nil
}
