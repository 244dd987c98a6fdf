package overlay

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/yamlguard"
)

// Op names a filesystem question a render asked.
type Op string

// The questions kustomize asks of a filesystem while rendering. Negative
// answers are recorded too: creating kustomization.yml next to a recorded
// "does not exist" must invalidate a cached render.
const (
	OpRead       Op = "read"
	OpExists     Op = "exists"
	OpIsDir      Op = "isdir"
	OpReadDir    Op = "readdir"
	OpGlob       Op = "glob"
	OpCleanedAbs Op = "abs"
	OpWalk       Op = "walk"
)

// Observation is one question a render asked of the filesystem and a digest
// of the answer it got. Replaying the observations against the filesystem
// tells whether a new render would see exactly the same inputs.
type Observation struct {
	Op     Op     `json:"op"`
	Path   string `json:"path"`
	Answer string `json:"answer"`
}

// observe answers one question. Recording and replay share it, so they can
// never disagree about what an answer means.
func observe(fsys filesys.FileSystem, op Op, path string) string {
	switch op {
	case OpRead:
		b, err := fsys.ReadFile(path)
		if err != nil {
			return "error"
		}
		return digest(b)
	case OpExists:
		return strconv.FormatBool(fsys.Exists(path))
	case OpIsDir:
		return strconv.FormatBool(fsys.IsDir(path))
	case OpReadDir:
		return listAnswer(fsys.ReadDir(path))
	case OpGlob:
		return listAnswer(fsys.Glob(path))
	case OpCleanedAbs:
		d, f, err := fsys.CleanedAbs(path)
		if err != nil {
			return "error"
		}
		return string(d) + "\x00" + f
	case OpWalk:
		var entries []string
		err := fsys.Walk(path, func(p string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			entries = append(entries, p+"\x00"+strconv.FormatBool(info.IsDir()))
			return nil
		})
		if err != nil {
			return "error"
		}
		return digest([]byte(strings.Join(entries, "\x00")))
	}
	return "unknown"
}

func listAnswer(names []string, err error) string {
	if err != nil {
		return "error"
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	return digest([]byte(strings.Join(sorted, "\x00")))
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Unchanged reports whether every observation still gets the same answer,
// i.e. whether rendering again would read exactly the same inputs.
func Unchanged(fsys filesys.FileSystem, obs []Observation) bool {
	for _, o := range obs {
		if observe(fsys, o.Op, o.Path) != o.Answer {
			return false
		}
	}
	return true
}

// recorder is a filesys.FileSystem that remembers what was asked of it.
// It answers through the wrapped filesystem and records a digest of the
// answer; the first answer to a question is the one kept.
type recorder struct {
	filesys.FileSystem

	mu      sync.Mutex
	obs     map[obsKey]string
	order   []obsKey
	writes  bool     // kustomize wrote (a git clone's cleanup): not cacheable
	remote  []string // remote references found in kustomization files
	kfiles  []string // kustomization files read, in order
	onRemot func(ref string)
	// refused is the first file the render was refused because kustomize
	// would have spent minutes expanding its YAML aliases.
	refused *Cause
}

type obsKey struct {
	op   Op
	path string
}

func newRecorder(fsys filesys.FileSystem, onRemote func(string)) *recorder {
	return &recorder{FileSystem: fsys, obs: map[obsKey]string{}, onRemot: onRemote}
}

func (r *recorder) note(op Op, path, answer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := obsKey{op, path}
	if _, ok := r.obs[k]; ok {
		return
	}
	r.obs[k] = answer
	r.order = append(r.order, k)
}

// observations returns what was recorded, sorted so that equal renders give
// equal lists.
func (r *recorder) observations() []Observation {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Observation, 0, len(r.order))
	for _, k := range r.order {
		out = append(out, Observation{Op: k.op, Path: k.path, Answer: r.obs[k]})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Op < out[j].Op
	})
	return out
}

func (r *recorder) ReadFile(path string) ([]byte, error) {
	b, err := r.FileSystem.ReadFile(path)
	if err == nil {
		// Every file kustomize reads may be YAML it parses and expands
		// (a resource, a patch, a kustomization): an alias bomb is
		// refused here, before kustomize sees it, and named by file.
		// The answer is not recorded, so such a render is never cached.
		if gerr := yamlguard.Check(b); gerr != nil {
			r.mu.Lock()
			if r.refused == nil {
				r.refused = &Cause{File: path, Problem: gerr.Error()}
			}
			r.mu.Unlock()
			return nil, fmt.Errorf("%s: %w", path, gerr)
		}
	}
	ans := "error"
	if err == nil {
		ans = digest(b)
		if isKustomizationFile(path) {
			r.mu.Lock()
			r.kfiles = append(r.kfiles, path)
			r.mu.Unlock()
			r.scanKustomization(b)
		}
	}
	r.note(OpRead, path, ans)
	return b, err
}

func (r *recorder) Open(path string) (filesys.File, error) {
	r.note(OpRead, path, observe(r.FileSystem, OpRead, path))
	return r.FileSystem.Open(path)
}

func (r *recorder) Exists(path string) bool {
	ok := r.FileSystem.Exists(path)
	r.note(OpExists, path, strconv.FormatBool(ok))
	return ok
}

func (r *recorder) IsDir(path string) bool {
	ok := r.FileSystem.IsDir(path)
	r.note(OpIsDir, path, strconv.FormatBool(ok))
	return ok
}

func (r *recorder) ReadDir(path string) ([]string, error) {
	names, err := r.FileSystem.ReadDir(path)
	r.note(OpReadDir, path, listAnswer(names, err))
	return names, err
}

func (r *recorder) Glob(pattern string) ([]string, error) {
	m, err := r.FileSystem.Glob(pattern)
	r.note(OpGlob, pattern, listAnswer(m, err))
	return m, err
}

func (r *recorder) CleanedAbs(path string) (filesys.ConfirmedDir, string, error) {
	d, f, err := r.FileSystem.CleanedAbs(path)
	ans := "error"
	if err == nil {
		ans = string(d) + "\x00" + f
	}
	r.note(OpCleanedAbs, path, ans)
	return d, f, err
}

func (r *recorder) Walk(path string, fn filepath.WalkFunc) error {
	r.note(OpWalk, path, observe(r.FileSystem, OpWalk, path))
	return r.FileSystem.Walk(path, fn)
}

func (r *recorder) markWrite() {
	r.mu.Lock()
	r.writes = true
	r.mu.Unlock()
}

func (r *recorder) Create(path string) (filesys.File, error) {
	r.markWrite()
	return r.FileSystem.Create(path)
}

func (r *recorder) Mkdir(path string) error {
	r.markWrite()
	return r.FileSystem.Mkdir(path)
}

func (r *recorder) MkdirAll(path string) error {
	r.markWrite()
	return r.FileSystem.MkdirAll(path)
}

func (r *recorder) RemoveAll(path string) error {
	r.markWrite()
	return r.FileSystem.RemoveAll(path)
}

func (r *recorder) WriteFile(path string, data []byte) error {
	r.markWrite()
	return r.FileSystem.WriteFile(path, data)
}

// kustRefs is the part of a kustomization that can point outside the tree.
type kustRefs struct {
	Resources  []string          `json:"resources"`
	Bases      []string          `json:"bases"`
	Components []string          `json:"components"`
	OpenAPI    map[string]string `json:"openapi"`
}

func isKustomizationFile(path string) bool {
	base := filepath.Base(path)
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if base == n {
			return true
		}
	}
	return false
}

// scanKustomization notes remote references as soon as kustomize reads the
// file that holds them, before it starts fetching, so the caller can bound
// the fetch and name the URL if it hangs.
func (r *recorder) scanKustomization(b []byte) {
	var k kustRefs
	if yaml.Unmarshal(b, &k) != nil {
		return // kustomize reports the syntax error itself
	}
	for _, ref := range k.refs() {
		if IsRemote(ref) {
			r.mu.Lock()
			r.remote = append(r.remote, ref)
			r.mu.Unlock()
			if r.onRemot != nil {
				r.onRemot(ref)
			}
		}
	}
}

// brokenKustomization returns the first kustomization file read that is
// not valid YAML: kustomize's own message ("invalid Kustomization: yaml:
// line 2: ...") does not say which of the tree's kustomizations it means.
func (r *recorder) brokenKustomization() string {
	r.mu.Lock()
	files := append([]string(nil), r.kfiles...)
	r.mu.Unlock()
	for _, f := range files {
		b, err := r.FileSystem.ReadFile(f)
		if err != nil {
			continue
		}
		var v any
		if yaml.Unmarshal(b, &v) != nil {
			return f
		}
	}
	return ""
}

// IsRemote reports whether a kustomization reference is fetched over the
// network: an http(s) file, or any of the git URL forms kustomize accepts
// (scheme://, git::, scp-style user@host:path, github.com/org/repo).
func IsRemote(ref string) bool {
	l := strings.ToLower(ref)
	switch {
	case strings.HasPrefix(l, "git::"), strings.Contains(l, "://"):
		return true
	case strings.HasPrefix(l, "github.com/"), strings.HasPrefix(l, "github.com:"):
		return true
	}
	// scp-style: user@host:path, with no slash before the '@'.
	at := strings.IndexByte(ref, '@')
	colon := strings.IndexByte(ref, ':')
	slash := strings.IndexByte(ref, '/')
	return at > 0 && colon > at && (slash < 0 || slash > colon)
}
