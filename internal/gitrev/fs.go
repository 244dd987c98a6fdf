package gitrev

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Tree is one revision's tree as a read-only filesys.FileSystem. It is
// safe for concurrent use.
type Tree struct {
	// Rev is the revision as the user wrote it; Commit what it names.
	Rev    string
	Commit string

	top     string
	files   map[string]entry    // slash path relative to top
	dirs    map[string][]string // directory ("" is top) → sorted entry names
	ignored []string            // ignored paths, relative to top
	cat     *catFile

	mu    sync.Mutex
	blobs map[string][]byte // by oid: environments share their base
}

var _ filesys.FileSystem = (*Tree)(nil)

// Close stops the git process that reads file contents.
func (t *Tree) Close() {
	if t.cat != nil {
		t.cat.close()
	}
}

// Top is the repository's top-level directory, spelled as the root given
// to Open spells it.
func (t *Tree) Top() string { return t.top }

var disk = filesys.MakeFsOnDisk()

// where says how a path is answered.
type where int

const (
	inTree where = iota
	onDisk       // outside the repository, or ignored by git
)

// locate maps an absolute or relative path to where it is answered and,
// in the tree, its slash path relative to top with symbolic links
// resolved. ok is false for a tree path that does not exist.
func (t *Tree) locate(p string) (w where, rel string, ok bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return inTree, "", false
	}
	r, err := filepath.Rel(t.top, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return onDisk, abs, true
	}
	r = filepath.ToSlash(r)
	if r == "." {
		r = ""
	}
	res, found, outside := t.resolve(r, 0)
	if outside != "" {
		return onDisk, outside, true
	}
	if !found && t.isIgnored(r) {
		return onDisk, abs, true
	}
	return inTree, res, found
}

// resolve follows symbolic links in rel, component by component, as the
// operating system would in a checkout. outside is set (an absolute path)
// when a link leads out of the repository.
func (t *Tree) resolve(rel string, depth int) (res string, found bool, outside string) {
	if rel == "" {
		return "", true, ""
	}
	if depth > 40 {
		return rel, false, ""
	}
	parts := strings.Split(rel, "/")
	cur := ""
	for i, part := range parts {
		next := path.Join(cur, part)
		if part == ".." {
			next = path.Dir(cur)
			if cur == "" {
				return "", false, filepath.Join(t.top, filepath.FromSlash(path.Join(parts[i:]...)))
			}
			if next == "." {
				next = ""
			}
		}
		e, isFile := t.files[next]
		if isFile && e.symlink() {
			target, err := t.blob(e.oid)
			if err != nil {
				return next, false, ""
			}
			tgt := string(target)
			rest := path.Join(parts[i+1:]...)
			if filepath.IsAbs(tgt) {
				return "", false, filepath.Join(tgt, filepath.FromSlash(rest))
			}
			joined := path.Join(path.Dir(next), tgt, rest)
			if joined == "." {
				joined = ""
			}
			if joined == ".." || strings.HasPrefix(joined, "../") {
				return "", false, filepath.Join(t.top, filepath.FromSlash(joined))
			}
			return t.resolve(joined, depth+1)
		}
		_, isDir := t.dirs[next]
		switch {
		case isDir:
		case isFile && i == len(parts)-1:
		default:
			return next, false, ""
		}
		cur = next
	}
	return cur, true, ""
}

func (t *Tree) isIgnored(rel string) bool {
	for _, ig := range t.ignored {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

func (t *Tree) abs(rel string) string { return filepath.Join(t.top, filepath.FromSlash(rel)) }

func (t *Tree) blob(oid string) ([]byte, error) {
	t.mu.Lock()
	b, ok := t.blobs[oid]
	t.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := t.cat.read(oid)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.blobs[oid] = b
	t.mu.Unlock()
	return b, nil
}

func notExist(op, p string) error { return &fs.PathError{Op: op, Path: p, Err: fs.ErrNotExist} }

func (t *Tree) readOnly(op, p string) error {
	return &fs.PathError{Op: op, Path: p, Err: fmt.Errorf("read-only: the tree of revision %s", t.Rev)}
}

// ReadFile returns a file's content at the revision.
func (t *Tree) ReadFile(p string) ([]byte, error) {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.ReadFile(rel)
	}
	if !ok {
		return nil, notExist("open", p)
	}
	e, isFile := t.files[rel]
	if !isFile || e.submodule() {
		return nil, &fs.PathError{Op: "read", Path: p, Err: fmt.Errorf("is a directory")}
	}
	b, err := t.blob(e.oid)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: p, Err: err}
	}
	return bytes.Clone(b), nil
}

// Exists reports whether p exists at the revision.
func (t *Tree) Exists(p string) bool {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.Exists(rel)
	}
	return ok
}

// IsDir reports whether p is a directory at the revision (a submodule is
// an empty one: its content is another repository's).
func (t *Tree) IsDir(p string) bool {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.IsDir(rel)
	}
	if !ok {
		return false
	}
	_, isDir := t.dirs[rel]
	return isDir || t.files[rel].submodule()
}

// ReadDir lists a directory's entries, sorted, with the ignored files
// the working tree has there.
func (t *Tree) ReadDir(p string) ([]string, error) {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.ReadDir(rel)
	}
	if !ok {
		return nil, notExist("open", p)
	}
	names, isDir := t.dirs[rel]
	if !isDir {
		if t.files[rel].submodule() {
			return nil, nil
		}
		return nil, &fs.PathError{Op: "readdir", Path: p, Err: fmt.Errorf("not a directory")}
	}
	out := append([]string(nil), names...)
	for _, ig := range t.ignored {
		if d, name := parentOf(ig); d == rel && disk.Exists(t.abs(ig)) {
			out = append(out, name)
		}
	}
	return sortedUnique(out), nil
}

// CleanedAbs splits p into a directory that exists and a file name ("" when
// p is a directory), as kyaml's on-disk file system does.
func (t *Tree) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.CleanedAbs(rel)
	}
	if !ok {
		return "", "", fmt.Errorf("evalsymlink failure on '%s' : %w", p, notExist("lstat", p))
	}
	if t.IsDir(t.abs(rel)) {
		return filesys.ConfirmedDir(t.abs(rel)), "", nil
	}
	dir, name := parentOf(rel)
	return filesys.ConfirmedDir(t.abs(dir)), name, nil
}

// Glob returns the paths that match pattern (filepath.Match syntax), sorted,
// without hidden files unless the pattern asks for them, as kyaml's
// on-disk Glob does.
func (t *Tree) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(pattern)
	if err != nil {
		return nil, err
	}
	r, err := filepath.Rel(t.top, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return disk.Glob(pattern)
	}
	var out []string
	seen := map[string]bool{}
	try := func(rel string) {
		a := t.abs(rel)
		if ok, _ := filepath.Match(abs, a); ok && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	for rel := range t.files {
		try(rel)
	}
	for rel := range t.dirs {
		if rel != "" {
			try(rel)
		}
	}
	if ms, err := disk.Glob(abs); err == nil {
		for _, m := range ms {
			if r, err := filepath.Rel(t.top, m); err == nil && t.isIgnored(filepath.ToSlash(r)) && !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	if !filesys.IsHiddenFilePath(pattern) {
		out = filesys.RemoveHiddenFiles(out)
	}
	sort.Strings(out)
	if !filepath.IsAbs(pattern) {
		// Answer in the pattern's own terms, as filepath.Glob does.
		wd, _ := filepath.Abs(".")
		for i, m := range out {
			if r, err := filepath.Rel(wd, m); err == nil {
				out[i] = r
			}
		}
	}
	return out, nil
}

// Walk walks the tree at p in lexical order, as filepath.Walk does.
func (t *Tree) Walk(p string, fn filepath.WalkFunc) error {
	w, rel, ok := t.locate(p)
	if w == onDisk {
		return disk.Walk(rel, fn)
	}
	if !ok {
		return fn(p, nil, notExist("lstat", p))
	}
	err := t.walk(p, rel, fn)
	if err == filepath.SkipDir || err == filepath.SkipAll {
		return nil
	}
	return err
}

func (t *Tree) walk(p, rel string, fn filepath.WalkFunc) error {
	info := t.stat(rel)
	if !info.IsDir() {
		return fn(p, info, nil)
	}
	if err := fn(p, info, nil); err != nil {
		return err
	}
	names, _ := t.ReadDir(t.abs(rel))
	for _, n := range names {
		child := path.Join(rel, n)
		if _, in := t.files[child]; !in {
			if _, in := t.dirs[child]; !in {
				// An ignored file of the working tree.
				if err := disk.Walk(filepath.Join(p, n), fn); err != nil && err != filepath.SkipDir {
					return err
				}
				continue
			}
		}
		err := t.walk(filepath.Join(p, n), child, fn)
		if err == filepath.SkipDir {
			if !t.stat(child).IsDir() {
				return nil // skip the rest of this directory
			}
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Open opens a file for reading.
func (t *Tree) Open(p string) (filesys.File, error) {
	w, rel, _ := t.locate(p)
	if w == onDisk {
		return disk.Open(rel)
	}
	b, err := t.ReadFile(p)
	if err != nil {
		return nil, err
	}
	return &file{Reader: bytes.NewReader(b), info: t.stat(rel)}, nil
}

// Create, Mkdir, MkdirAll, RemoveAll and WriteFile change only what is
// outside the repository (kustomize's clones of remote bases); the
// revision's tree is read-only.
func (t *Tree) Create(p string) (filesys.File, error) {
	if w, rel, _ := t.locate(p); w == onDisk {
		return disk.Create(rel)
	}
	return nil, t.readOnly("create", p)
}

// Mkdir makes a directory outside the repository.
func (t *Tree) Mkdir(p string) error {
	if w, rel, _ := t.locate(p); w == onDisk {
		return disk.Mkdir(rel)
	}
	return t.readOnly("mkdir", p)
}

// MkdirAll makes directories outside the repository.
func (t *Tree) MkdirAll(p string) error {
	if w, rel, _ := t.locate(p); w == onDisk {
		return disk.MkdirAll(rel)
	}
	return t.readOnly("mkdir", p)
}

// RemoveAll removes what is outside the repository.
func (t *Tree) RemoveAll(p string) error {
	if w, rel, _ := t.locate(p); w == onDisk {
		return disk.RemoveAll(rel)
	}
	return t.readOnly("remove", p)
}

// WriteFile writes a file outside the repository.
func (t *Tree) WriteFile(p string, data []byte) error {
	if w, rel, _ := t.locate(p); w == onDisk {
		return disk.WriteFile(rel, data)
	}
	return t.readOnly("write", p)
}

func (t *Tree) stat(rel string) fileInfo {
	name := path.Base(rel)
	if rel == "" {
		name = filepath.Base(t.top)
	}
	if _, isDir := t.dirs[rel]; isDir || t.files[rel].submodule() {
		return fileInfo{name: name, dir: true}
	}
	return fileInfo{name: name, size: t.files[rel].size}
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string { return i.name }
func (i fileInfo) Size() int64  { return i.size }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }

type file struct {
	*bytes.Reader
	info fileInfo
}

func (f *file) Write([]byte) (int, error) { return 0, fmt.Errorf("read-only") }
func (f *file) Close() error              { return nil }
func (f *file) Stat() (os.FileInfo, error) {
	return f.info, nil
}

func sortedUnique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
