package rendercache

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/envctl/envctl/internal/overlay"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// EnvVar names the environment variable that overrides the cache directory.
const EnvVar = "ENVCTL_CACHE_DIR"

// keep is how many input sets are kept per key: enough to flip between a
// few branches without re-rendering, few enough that a lookup stays cheap.
const keep = 4

// format is bumped whenever the entry layout changes.
const format = "envctl-render-cache/1"

// DefaultDir is $ENVCTL_CACHE_DIR, else <user cache dir>/envctl/render.
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvVar); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the user cache directory (set %s or --cache-dir): %w", EnvVar, err)
	}
	return filepath.Join(d, "envctl", "render"), nil
}

// Cache is a directory of rendered outputs. The zero value is unusable; a
// nil *Cache is a valid cache that never hits and stores nothing.
type Cache struct {
	dir string
	// salt is mixed into every key: the envctl build identity, so a new
	// binary never trusts an old binary's output.
	salt string
}

// Open returns a cache rooted at dir. The directory is created lazily on
// the first Put.
func Open(dir, salt string) *Cache {
	return &Cache{dir: dir, salt: salt}
}

// Key identifies a render request before its inputs are known: which
// directory, with which options, by which build of envctl.
func (c *Cache) Key(dir string, opts overlay.Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d", format, c.salt, filepath.Clean(dir), opts.RemoteTimeout)
	return hex.EncodeToString(h.Sum(nil))
}

// header is the first line of an entry file; the rendered YAML follows it.
type header struct {
	Format  string                `json:"format"`
	Dir     string                `json:"dir"`
	Objects int                   `json:"objects"`
	Size    int                   `json:"size"`
	SHA256  string                `json:"sha256"`
	Inputs  []overlay.Observation `json:"inputs"`
}

// Get returns the stored render for key if its recorded inputs still read
// the same from fsys. A corrupt or truncated entry is a miss.
func (c *Cache) Get(fsys filesys.FileSystem, key string) (*overlay.Result, bool) {
	if c == nil {
		return nil, false
	}
	entries, _ := os.ReadDir(c.keyDir(key))
	type cand struct {
		path string
		mod  time.Time
	}
	var cands []cand
	for _, e := range entries {
		if e.Type().IsRegular() && filepath.Ext(e.Name()) == ".entry" {
			if info, err := e.Info(); err == nil {
				cands = append(cands, cand{filepath.Join(c.keyDir(key), e.Name()), info.ModTime()})
			}
		}
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].mod.After(cands[j].mod) })
	for _, cd := range cands {
		hdr, body, err := readEntry(cd.path)
		if err != nil {
			_ = os.Remove(cd.path)
			continue
		}
		if overlay.Unchanged(fsys, hdr.Inputs) {
			now := time.Now()
			_ = os.Chtimes(cd.path, now, now) // most recently used is tried first
			return &overlay.Result{YAML: body, Objects: hdr.Objects, Inputs: hdr.Inputs}, true
		}
	}
	return nil, false
}

// Put stores a render. It is a no-op for renders that are not cacheable.
// The entry is written beside its final name and renamed, so concurrent
// envctl runs never see half an entry.
func (c *Cache) Put(key, dir string, r *overlay.Result) error {
	if c == nil || !r.Cacheable() {
		return nil
	}
	sum := sha256.Sum256(r.YAML)
	hdr := header{Format: format, Dir: dir, Objects: r.Objects, Size: len(r.YAML), SHA256: hex.EncodeToString(sum[:]), Inputs: r.Inputs}
	line, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	inputs, _ := json.Marshal(r.Inputs)
	id := sha256.Sum256(inputs)
	kd := c.keyDir(key)
	if err := os.MkdirAll(kd, 0o755); err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	tmp, err := os.CreateTemp(kd, ".tmp-*")
	if err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	w.Write(line)
	w.WriteByte('\n')
	w.Write(r.YAML)
	if err := w.Flush(); err != nil {
		tmp.Close()
		return fmt.Errorf("render cache: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(kd, hex.EncodeToString(id[:16])+".entry")); err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	c.prune(kd)
	return nil
}

// prune keeps the most recently used entries of one key.
func (c *Cache) prune(kd string) {
	entries, err := os.ReadDir(kd)
	if err != nil {
		return
	}
	type ent struct {
		name string
		mod  time.Time
	}
	var es []ent
	for _, e := range entries {
		if filepath.Ext(e.Name()) != ".entry" {
			continue
		}
		if info, err := e.Info(); err == nil {
			es = append(es, ent{e.Name(), info.ModTime()})
		}
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mod.After(es[j].mod) })
	for _, e := range es[min(len(es), keep):] {
		_ = os.Remove(filepath.Join(kd, e.name))
	}
}

func (c *Cache) keyDir(key string) string {
	return filepath.Join(c.dir, key[:2], key)
}

var errCorrupt = errors.New("corrupt cache entry")

func readEntry(path string) (*header, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	nl := bytes.IndexByte(b, '\n')
	if nl < 0 {
		return nil, nil, errCorrupt
	}
	var hdr header
	if err := json.Unmarshal(b[:nl], &hdr); err != nil || hdr.Format != format {
		return nil, nil, errCorrupt
	}
	body := b[nl+1:]
	sum := sha256.Sum256(body)
	if len(body) != hdr.Size || hex.EncodeToString(sum[:]) != hdr.SHA256 {
		return nil, nil, errCorrupt
	}
	return &hdr, body, nil
}
