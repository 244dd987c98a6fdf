//go:build unix

package rendercache

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/overlay"
)

func TestTheCacheIsPrivate(t *testing.T) {
	fsys, dir := tree(t)
	cdir := filepath.Join(t.TempDir(), "new", "cache")
	c := Open(cdir, "test", 0)
	key := c.Key(dir, overlay.Options{})
	if err := c.Put(key, dir, render(t, fsys, dir)); err != nil {
		t.Fatal(err)
	}
	es := entries(t, cdir)
	if len(es) != 1 {
		t.Fatalf("entries = %v", es)
	}
	for path, want := range map[string]fs.FileMode{
		cdir:                              0o700,
		filepath.Join(cdir, keyFile):      0o600,
		filepath.Dir(es[0]):               0o700,
		filepath.Dir(filepath.Dir(es[0])): 0o700,
		es[0]:                             0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != want {
			t.Errorf("%s is %04o, want %04o", path, got, want)
		}
	}
}

func TestADirectoryOthersCanWriteIsRefused(t *testing.T) {
	for _, mode := range []fs.FileMode{0o777, 0o770, 0o722} {
		cdir := t.TempDir()
		os.Chmod(cdir, mode)
		c := Open(cdir, "test", 0)
		var ue *UnsafeError
		if err := c.Ready(); !errors.As(err, &ue) || !strings.Contains(err.Error(), "lets others write it") {
			t.Errorf("mode %04o: Ready = %v, want an *UnsafeError", mode, err)
		}
		fsys, dir := tree(t)
		if err := c.Put(c.Key(dir, overlay.Options{}), dir, render(t, fsys, dir)); err == nil {
			t.Errorf("mode %04o: Put stored an entry", mode)
		}
		if _, err := os.Stat(filepath.Join(cdir, keyFile)); err == nil {
			t.Errorf("mode %04o: a key was written", mode)
		}
	}
}

func TestADirectoryAnotherUserOwnsIsRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user")
	}
	cdir := t.TempDir()
	if err := os.Chown(cdir, 65534, 65534); err != nil {
		t.Skip(err)
	}
	if err := Open(cdir, "test", 0).Ready(); err == nil || !strings.Contains(err.Error(), "owned by user 65534") {
		t.Fatalf("Ready = %v, want a refusal naming the owner", err)
	}
}

func TestAKeyOthersCanReadIsRefused(t *testing.T) {
	cdir := t.TempDir()
	if err := Open(cdir, "test", 0).Ready(); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(cdir, keyFile), 0o644)
	if err := Open(cdir, "test", 0).Ready(); err == nil || !strings.Contains(err.Error(), "key file key is mode 0644") {
		t.Fatalf("Ready = %v, want a refusal of the key", err)
	}
}

// The case: an entry edited on disk used to be printed as output
// when its checksum was recomputed. Now every edit is a miss, even one
// that keeps the length and fixes up the header.
func TestAnEditedEntryIsAMiss(t *testing.T) {
	edits := map[string]func([]byte) []byte{
		"a value in the body, same length": func(b []byte) []byte {
			return bytes.Replace(b, []byte("k: v"), []byte("k: X"), 1)
		},
		"the object count in the header": func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"objects":2`), []byte(`"objects":3`), 1)
		},
		"an entry of another key copied in": nil,
		// What format 1's checksum could not stop: an edit whose
		// integrity line is recomputed by someone without the key.
		"a value edited and the MAC recomputed with another key": func(b []byte) []byte {
			_, rest, _ := bytes.Cut(b, []byte{'\n'})
			rest = bytes.Replace(rest, []byte("k: v"), []byte("k: X"), 1)
			mac := hmac.New(sha256.New, make([]byte, 32))
			mac.Write(rest)
			return append([]byte(hex.EncodeToString(mac.Sum(nil))+"\n"), rest...)
		},
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			fsys, dir := tree(t)
			cdir := t.TempDir()
			c := Open(cdir, "test", 0)
			key := c.Key(dir, overlay.Options{})
			r := render(t, fsys, dir)
			if err := c.Put(key, dir, r); err != nil {
				t.Fatal(err)
			}
			es := entries(t, cdir)
			b, _ := os.ReadFile(es[0])
			if edit == nil {
				// Stored under another directory's key, served for this one.
				other := c.Key("/elsewhere", overlay.Options{})
				if err := c.Put(other, "/elsewhere", r); err != nil {
					t.Fatal(err)
				}
				os.Remove(es[0])
				for _, e := range entries(t, cdir) {
					b, _ = os.ReadFile(e)
				}
			} else if nb := edit(b); bytes.Equal(nb, b) {
				t.Fatal("the edit changed nothing")
			} else {
				b = nb
			}
			if err := os.WriteFile(es[0], b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, ok := c.Get(fsys, key); ok {
				t.Fatal("an edited entry was served")
			}
			if _, err := os.Stat(es[0]); err == nil {
				t.Error("the edited entry was kept")
			}
		})
	}
}

func TestEntriesExpire(t *testing.T) {
	fsys, dir := tree(t)
	cdir := t.TempDir()
	c := Open(cdir, "test", 48*time.Hour)
	key := c.Key(dir, overlay.Options{})
	r := render(t, fsys, dir)
	if err := c.Put(key, dir, r); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-72 * time.Hour)
	es := entries(t, cdir)
	os.Chtimes(es[0], old, old)
	if _, ok := c.Get(fsys, key); ok {
		t.Fatal("an expired entry was served")
	}
	if len(entries(t, cdir)) != 0 {
		t.Fatal("an expired entry was kept")
	}

	// The daily sweep reaches keys nobody reads any more, and the
	// temporary files of killed runs.
	if err := c.Put(key, dir, r); err != nil {
		t.Fatal(err)
	}
	es = entries(t, cdir)
	os.Chtimes(es[0], old, old)
	stale := filepath.Join(filepath.Dir(es[0]), ".tmp-123")
	os.WriteFile(stale, nil, 0o600)
	os.Chtimes(stale, old, old)
	os.Chtimes(filepath.Join(cdir, sweptFile), old, old)
	other := c.Key("/elsewhere", overlay.Options{})
	if err := c.Put(other, "/elsewhere", r); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, cdir); len(got) != 1 || !strings.Contains(got[0], other) {
		t.Fatalf("after the sweep: %v, want only the new entry", got)
	}
	if _, err := os.Stat(filepath.Dir(es[0])); err == nil {
		t.Error("the emptied key directory was kept")
	}
}

func TestParseMaxAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := ParseMaxAge(in); err != nil || got != want {
			t.Errorf("ParseMaxAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0d", "-1h", "soon", "d"} {
		if _, err := ParseMaxAge(in); err == nil {
			t.Errorf("ParseMaxAge(%q) accepted", in)
		}
	}
}
