package rendercache

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/envctl/envctl/internal/overlay"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// EnvVar names the environment variable that overrides the cache directory.
const EnvVar = "ENVCTL_CACHE_DIR"

// MaxAgeEnvVar names the environment variable that sets how long an
// unused entry is kept.
const MaxAgeEnvVar = "ENVCTL_CACHE_MAX_AGE"

// DefaultMaxAge is how long an entry is kept after it was last used.
const DefaultMaxAge = 30 * 24 * time.Hour

// keep is how many input sets are kept per key: enough to flip between a
// few branches without re-rendering, few enough that a lookup stays cheap.
const keep = 4

// format is bumped whenever the entry layout changes; entries of another
// format are misses.
const format = "envctl-render-cache/2"

// keyFile is the HMAC key of a cache directory, inside it.
const keyFile = "key"

// sweptFile marks, by its modification time, the last sweep for expired
// entries, so that a run walks the whole cache at most once a day.
const sweptFile = "swept"

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

// ParseMaxAge reads a maximum age as a Go duration (720h) or a number of
// days (30d).
func ParseMaxAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q: want a positive duration, e.g. 30d or 720h", s)
}

// UnsafeError is a cache directory envctl will not use: whoever else can
// write it could plant a render that envctl would print as the output.
type UnsafeError struct {
	Dir    string
	Reason string
}

func (e *UnsafeError) Error() string {
	return fmt.Sprintf("render cache %s: %s; not used (fix it, or choose another with --cache-dir or $%s)", e.Dir, e.Reason, EnvVar)
}

// Cache is a directory of rendered outputs. The zero value is unusable; a
// nil *Cache is a valid cache that never hits and stores nothing.
//
// Entries are authenticated with HMAC-SHA256 under a key kept in the
// directory (0600), and the directory must be the user's own and not
// writable by others: an entry edited on disk, or copied from another
// cache, is a miss, never output.
type Cache struct {
	dir string
	// salt is mixed into every key: the envctl build identity, so a new
	// binary never trusts an old binary's output.
	salt   string
	maxAge time.Duration

	mu  sync.Mutex
	key []byte // set once the directory is checked
	err error  // set when it is not safe
}

// Open returns a cache rooted at dir whose entries expire maxAge after
// their last use (DefaultMaxAge when 0). The directory is checked on first
// use, and created 0700 with its key by the first Put.
func Open(dir, salt string, maxAge time.Duration) *Cache {
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	return &Cache{dir: dir, salt: salt, maxAge: maxAge}
}

// Ready checks that the cache directory, if it exists, is safe to use;
// it returns an *UnsafeError when it is not, and the cache then never
// hits and stores nothing. Get and Put check it too.
func (c *Cache) Ready() error {
	_, err := c.ready(false)
	return err
}

// ready returns the directory's key once the directory is checked (nil
// while it does not exist and create is false: every Get is then a miss,
// and a command that stores nothing leaves no directory behind).
func (c *Cache) ready(create bool) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.key != nil || c.err != nil {
		return c.key, c.err
	}
	if !create {
		if _, err := os.Lstat(c.dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	c.key, c.err = c.prepare()
	return c.key, c.err
}

func (c *Cache) prepare() ([]byte, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	st, err := os.Lstat(c.dir)
	if err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	if !st.IsDir() {
		return nil, &UnsafeError{Dir: c.dir, Reason: "not a directory (a symbolic link is not followed)"}
	}
	if err := checkPrivate(st, false); err != nil {
		return nil, &UnsafeError{Dir: c.dir, Reason: err.Error()}
	}
	return c.loadKey()
}

// checkPrivate refuses a file or directory that is not the user's own or
// that others can write (or, for secret, read).
func checkPrivate(st fs.FileInfo, secret bool) error {
	if uid, ok := owner(st); ok && uid != os.Geteuid() {
		return fmt.Errorf("owned by user %d, not by you (%d)", uid, os.Geteuid())
	}
	mask := fs.FileMode(0o022)
	if secret {
		mask = 0o077
	}
	if st.Mode().Perm()&mask != 0 {
		return fmt.Errorf("mode %04o lets others %s it", st.Mode().Perm(), map[bool]string{false: "write", true: "read or write"}[secret])
	}
	return nil
}

// loadKey reads the directory's HMAC key, creating it on first use. It is
// written under a temporary name and linked into place, so two runs that
// start together agree on one key.
func (c *Cache) loadKey() ([]byte, error) {
	path := filepath.Join(c.dir, keyFile)
	for range 3 {
		if b, err := c.readKey(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return b, err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, fmt.Errorf("render cache: %w", err)
		}
		tmp, err := os.CreateTemp(c.dir, ".key.tmp-*")
		if err != nil {
			return nil, fmt.Errorf("render cache: %w", err)
		}
		_, werr := tmp.Write(key)
		cerr := tmp.Close()
		if werr == nil && cerr == nil {
			// Link fails if another run made the key first; read theirs.
			err = os.Link(tmp.Name(), path)
		}
		os.Remove(tmp.Name())
		if err := errors.Join(werr, cerr); err != nil {
			return nil, fmt.Errorf("render cache: %w", err)
		}
		if err == nil {
			return key, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("render cache: %w", err)
		}
	}
	return nil, fmt.Errorf("render cache: could not create %s", path)
}

func (c *Cache) readKey(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|noFollow, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	if !st.Mode().IsRegular() || st.Size() != 32 {
		return nil, &UnsafeError{Dir: c.dir, Reason: fmt.Sprintf("its key file %s is not a 32-byte file", keyFile)}
	}
	if err := checkPrivate(st, true); err != nil {
		return nil, &UnsafeError{Dir: c.dir, Reason: fmt.Sprintf("its key file %s is %v", keyFile, err)}
	}
	key := make([]byte, 32)
	if _, err := f.Read(key); err != nil {
		return nil, fmt.Errorf("render cache: %w", err)
	}
	return key, nil
}

// Key identifies a render request before its inputs are known: which
// directory, with which options, by which build of envctl.
func (c *Cache) Key(dir string, opts overlay.Options) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00%t", format, c.salt, filepath.Clean(dir), opts.RemoteTimeout, opts.NoDecrypt)
	return hex.EncodeToString(h.Sum(nil))
}

// header is the second line of an entry file; the rendered YAML follows
// it. The first line is the HMAC of everything after it.
type header struct {
	Format  string                `json:"format"`
	Key     string                `json:"key"`
	Dir     string                `json:"dir"`
	Objects int                   `json:"objects"`
	Size    int                   `json:"size"`
	Inputs  []overlay.Observation `json:"inputs"`
}

// Get returns the stored render for key if its recorded inputs still read
// the same from fsys. An entry that is corrupt, truncated, edited, expired
// or of another key is a miss.
func (c *Cache) Get(fsys filesys.FileSystem, key string) (*overlay.Result, bool) {
	if c == nil {
		return nil, false
	}
	mkey, err := c.ready(false)
	if err != nil || mkey == nil {
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
		if time.Since(cd.mod) > c.maxAge {
			_ = os.Remove(cd.path)
			continue
		}
		hdr, body, err := readEntry(mkey, cd.path)
		if err != nil || hdr.Key != key {
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
	mkey, err := c.ready(true)
	if err != nil {
		return err
	}
	hdr := header{Format: format, Key: key, Dir: dir, Objects: r.Objects, Size: len(r.YAML), Inputs: r.Inputs}
	line, err := json.Marshal(hdr)
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, mkey)
	mac.Write(line)
	mac.Write([]byte{'\n'})
	mac.Write(r.YAML)
	inputs, _ := json.Marshal(r.Inputs)
	id := sha256.Sum256(inputs)
	kd := c.keyDir(key)
	var tmp *os.File
	for try := 0; ; try++ {
		// Another run's sweep removes empty shard and key directories,
		// and can do so inside MkdirAll (between the shard and the key)
		// or between MkdirAll and CreateTemp: make them again.
		if err = os.MkdirAll(kd, 0o700); err == nil {
			tmp, err = os.CreateTemp(kd, ".tmp-*") // 0600
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) || try == 2 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("render cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	w := bufio.NewWriter(tmp)
	w.WriteString(hex.EncodeToString(mac.Sum(nil)))
	w.WriteByte('\n')
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
	c.sweepExpired()
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

// staleTemp is the age past which a temporary file in the cache belongs
// to a run that was killed: writing an entry takes milliseconds.
const staleTemp = time.Hour

// sweepExpired removes, at most once a day, every entry not used for
// maxAge, the temporary files of killed runs, and the key directories
// left empty. Get drops the expired entries of the keys it reads; this
// reaches the environments nobody renders any more.
func (c *Cache) sweepExpired() {
	marker := filepath.Join(c.dir, sweptFile)
	if st, err := os.Stat(marker); err == nil && time.Since(st.ModTime()) < 24*time.Hour {
		return
	}
	if f, err := os.OpenFile(marker, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	}
	now := time.Now()
	_ = os.Chtimes(marker, now, now)
	shards, _ := os.ReadDir(c.dir)
	for _, s := range shards {
		if !s.IsDir() || len(s.Name()) != 2 {
			continue
		}
		sd := filepath.Join(c.dir, s.Name())
		keys, _ := os.ReadDir(sd)
		for _, k := range keys {
			kd := filepath.Join(sd, k.Name())
			files, _ := os.ReadDir(kd)
			for _, f := range files {
				info, err := f.Info()
				if err != nil {
					continue
				}
				age := now.Sub(info.ModTime())
				if (filepath.Ext(f.Name()) == ".entry" && age > c.maxAge) || (strings.HasPrefix(f.Name(), ".tmp-") && age > staleTemp) {
					_ = os.Remove(filepath.Join(kd, f.Name()))
				}
			}
			_ = os.Remove(kd) // only if empty
		}
		_ = os.Remove(sd)
	}
	for _, f := range shards {
		if strings.HasPrefix(f.Name(), ".key.tmp-") {
			if info, err := f.Info(); err == nil && now.Sub(info.ModTime()) > staleTemp {
				_ = os.Remove(filepath.Join(c.dir, f.Name()))
			}
		}
	}
}

func (c *Cache) keyDir(key string) string {
	return filepath.Join(c.dir, key[:2], key)
}

var errCorrupt = errors.New("corrupt cache entry")

// readEntry reads an entry and checks its HMAC: one pass over bytes that
// are read anyway, in place of the checksum format 1 carried.
func readEntry(key []byte, path string) (*header, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	macHex, rest, ok := bytes.Cut(b, []byte{'\n'})
	if !ok {
		return nil, nil, errCorrupt
	}
	want := make([]byte, sha256.Size)
	if n, err := hex.Decode(want, macHex); err != nil || n != sha256.Size {
		return nil, nil, errCorrupt
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(rest)
	if !hmac.Equal(mac.Sum(nil), want) {
		return nil, nil, errCorrupt
	}
	line, body, ok := bytes.Cut(rest, []byte{'\n'})
	if !ok {
		return nil, nil, errCorrupt
	}
	var hdr header
	if err := json.Unmarshal(line, &hdr); err != nil || hdr.Format != format || len(body) != hdr.Size {
		return nil, nil, errCorrupt
	}
	return &hdr, body, nil
}
