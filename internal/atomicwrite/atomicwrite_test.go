package atomicwrite

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFilesIntoANewDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "out")
	if err := Files(dir, map[string][]byte{"x.yaml": []byte("x"), "y.yaml": []byte("y")}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "y.yaml"))
	if err != nil || string(b) != "y" {
		t.Fatalf("y.yaml = %q, %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*"))
	if len(left) != 0 {
		t.Errorf("temporary directories left: %v", left)
	}
}

func TestFilesIntoAnExistingDirectoryKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("old"), 0o644)
	if err := Files(dir, map[string][]byte{"x.yaml": []byte("new")}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("entries = %v", entries)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "x.yaml"))
	if string(b) != "new" {
		t.Fatalf("x.yaml = %q", b)
	}
}

func TestFilesRefusesBadNamesAndFiles(t *testing.T) {
	dir := t.TempDir()
	if err := Files(dir, map[string][]byte{"../escape.yaml": nil}); err == nil {
		t.Error("a name with a path was accepted")
	}
	f := filepath.Join(dir, "file")
	os.WriteFile(f, []byte("precious"), 0o644)
	if err := Files(f, map[string][]byte{"x.yaml": nil}); err == nil {
		t.Error("writing into a file succeeded")
	}
	if b, _ := os.ReadFile(f); string(b) != "precious" {
		t.Error("the file was changed")
	}
}
