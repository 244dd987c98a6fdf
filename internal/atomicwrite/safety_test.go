//go:build unix

package atomicwrite

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// withUmask runs f under umask m. The umask is process-wide, so these tests
// are not parallel.
func withUmask(t *testing.T, m int, f func()) {
	t.Helper()
	old := syscall.Umask(m)
	defer syscall.Umask(old)
	f()
}

func perm(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestNewFilesArePrivateAndHonourTheUmask(t *testing.T) {
	for _, tc := range []struct {
		umask          int
		file, newDir   fs.FileMode
		describeCommit string
	}{
		{0o022, 0o600, 0o755, "a usual umask"},
		{0o002, 0o600, 0o775, "a group-writable umask"},
		{0o077, 0o600, 0o700, "a private umask"},
		{0o277, 0o400, 0o500, "a umask that removes the owner's write bit"},
	} {
		t.Run(tc.describeCommit, func(t *testing.T) {
			withUmask(t, tc.umask, func() {
				root := t.TempDir()
				existing := filepath.Join(root, "existing")
				os.Mkdir(existing, 0o755)
				fresh := filepath.Join(root, "new", "out")
				for _, dir := range []string{existing, fresh} {
					st, err := Stage(dir)
					if err != nil {
						t.Fatal(err)
					}
					if err := st.Write("prod.yaml", []byte("secret")); err != nil {
						t.Fatal(err)
					}
					if err := st.Commit(); err != nil {
						t.Fatal(err)
					}
					if got := perm(t, filepath.Join(dir, "prod.yaml")); got != tc.file {
						t.Errorf("%s/prod.yaml is %v, want %v", dir, got, tc.file)
					}
				}
				for _, d := range []string{filepath.Join(root, "new"), fresh} {
					if got := perm(t, d); got != tc.newDir {
						t.Errorf("created directory %s is %v, want %v", d, got, tc.newDir)
					}
				}
				snap := filepath.Join(root, "snap.yaml")
				if err := File(snap, []byte("secret")); err != nil {
					t.Fatal(err)
				}
				if got := perm(t, snap); got != tc.file {
					t.Errorf("File: %v, want %v", got, tc.file)
				}
			})
		})
	}
}

func TestAReplacedFileKeepsItsMode(t *testing.T) {
	for _, mode := range []fs.FileMode{0o600, 0o640, 0o644, 0o400} {
		dir := t.TempDir()
		p := filepath.Join(dir, "prod.yaml")
		os.WriteFile(p, []byte("old"), 0o600)
		os.Chmod(p, mode)
		st, err := Stage(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Write("prod.yaml", []byte("new")); err != nil {
			t.Fatal(err)
		}
		if err := st.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := perm(t, p); got != mode {
			t.Errorf("a %v file became %v", mode, got)
		}
		snap := filepath.Join(dir, "snap.yaml")
		os.WriteFile(snap, []byte("old"), 0o600)
		os.Chmod(snap, mode)
		if err := File(snap, []byte("new")); err != nil {
			t.Fatal(err)
		}
		if got := perm(t, snap); got != mode {
			t.Errorf("File: a %v file became %v", mode, got)
		}
	}
}

// The case: with out/staging.yaml a directory, dev.yaml and
// prod.yaml used to be replaced before the rename of staging.yaml failed.
func TestADirectoryInTheWayFailsBeforeAnyFileIsReplaced(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dev.yaml"), []byte("old dev"), 0o600)
	os.WriteFile(filepath.Join(dir, "prod.yaml"), []byte("old prod"), 0o600)
	os.Mkdir(filepath.Join(dir, "staging.yaml"), 0o755)
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Write("dev.yaml", []byte("new"))
	if err := st.Write("staging.yaml", []byte("new")); err == nil {
		t.Error("Write of staging.yaml over a directory succeeded")
	}
	st.Write("prod.yaml", []byte("new"))
	// The directory may also appear between Write and Commit.
	os.Mkdir(filepath.Join(dir, "prod.yaml.d"), 0o755)
	if err := st.Commit(); err != nil {
		t.Fatal(err) // staging.yaml was refused, the others commit
	}
	st2, _ := Stage(dir)
	st2.Write("a.yaml", []byte("new"))
	st2.Write("b.yaml", []byte("new"))
	os.Mkdir(filepath.Join(dir, "b.yaml"), 0o755)
	if err := st2.Commit(); err == nil {
		t.Fatal("Commit over a directory succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "a.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a.yaml was written although b.yaml could not be: %v", err)
	}
	assertOnly(t, dir, "b.yaml", "dev.yaml", "prod.yaml", "prod.yaml.d", "staging.yaml")
}

func TestAFailedRenameRestoresWhatWasThere(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("old a"), 0o640)
	os.WriteFile(filepath.Join(dir, "c.yaml"), []byte("old c"), 0o600)
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		if err := st.Write(n, []byte("new")); err != nil {
			t.Fatal(err)
		}
	}
	calls := 0
	rename = func(from, to string) error {
		calls++
		if filepath.Base(to) == "c.yaml" {
			return errors.New("disk on fire")
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()
	if err := st.Commit(); err == nil {
		t.Fatal("Commit succeeded")
	}
	if calls != 3 {
		t.Fatalf("%d renames, want 3 (a and b done, c failing)", calls)
	}
	for n, want := range map[string]string{"a.yaml": "old a", "c.yaml": "old c"} {
		if b, _ := os.ReadFile(filepath.Join(dir, n)); string(b) != want {
			t.Errorf("%s = %q, want %q", n, b, want)
		}
	}
	if got := perm(t, filepath.Join(dir, "a.yaml")); got != 0o640 {
		t.Errorf("restored a.yaml is %v, want 0640", got)
	}
	assertOnly(t, dir, "a.yaml", "c.yaml")
}

func TestStaleTemporaryFilesAreSwept(t *testing.T) {
	// A process id that is certainly gone: a child that has been waited for.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip(err)
	}
	dead := strconv.Itoa(cmd.ProcessState.Pid())
	live := strconv.Itoa(os.Getppid())
	dir := t.TempDir()
	old := time.Now().Add(-48 * time.Hour)
	files := map[string]bool{ // name → swept
		".prod.yaml.tmp-" + dead + "-00aa":     true,
		".prod.yaml.bak.tmp-" + dead + "-00bb": true,
		".dev.yaml.tmp-" + live + "-00cc":      false, // its writer may still be running
		".dev.yaml.tmp-123456789":              false, // an older version's name, recent
		".old.yaml.tmp-987654321":              true,  // the same, two days old
		"notes.tmp-" + dead + "-00dd":          false, // not envctl's
		"prod.yaml":                            false,
	}
	for n := range files {
		os.WriteFile(filepath.Join(dir, n), nil, 0o600)
	}
	os.Chtimes(filepath.Join(dir, ".old.yaml.tmp-987654321"), old, old)
	os.Mkdir(filepath.Join(dir, ".out.tmp-"+dead+"-00ee"), 0o700) // a staging directory
	files[".out.tmp-"+dead+"-00ee"] = true
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Abort()
	for n, swept := range files {
		_, err := os.Lstat(filepath.Join(dir, n))
		if gone := errors.Is(err, fs.ErrNotExist); gone != swept {
			t.Errorf("%s: swept %v, want %v", n, gone, swept)
		}
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if len(got) != len(names) {
		t.Fatalf("%s holds %v, want %v", dir, got, names)
	}
	for i := range got {
		if got[i] != names[i] {
			t.Fatalf("%s holds %v, want %v", dir, got, names)
		}
	}
}
