package atomicwrite

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAnExistingDirectoryKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(dir, "x.yaml"), []byte("old"), 0o644)
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Write("x.yaml", []byte("new")); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(); err != nil {
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

func TestWriteRefusesNamesWithPaths(t *testing.T) {
	dir := t.TempDir()
	st, err := Stage(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"../escape.yaml", "a/b.yaml", "..", "."} {
		if err := st.Write(n, nil); err == nil {
			t.Errorf("name %q was accepted", n)
		}
	}
	st.Abort()
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
}

func TestAbortRemovesTheParentsStageCreated(t *testing.T) {
	root := t.TempDir()
	st, err := Stage(filepath.Join(root, "new", "deep", "out"))
	if err != nil {
		t.Fatal(err)
	}
	st.Write("a.yaml", []byte("x"))
	st.Abort()
	if entries, _ := os.ReadDir(root); len(entries) != 0 {
		t.Errorf("left behind: %v", entries)
	}
	// And Commit keeps them.
	dir := filepath.Join(root, "new", "deep", "out")
	st, err = Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Write("a.yaml", []byte("x"))
	if err := st.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "a.yaml")); err != nil || string(b) != "x" {
		t.Errorf("a.yaml = %q, %v", b, err)
	}
}

func TestStagedFilesAppearOnlyOnCommit(t *testing.T) {
	for _, existing := range []bool{false, true} {
		dir, st := stage(t, t.TempDir(), existing)
		for _, n := range []string{"a.yaml", "b.yaml"} {
			if err := st.Write(n, []byte("new "+n)); err != nil {
				t.Fatal(err)
			}
		}
		if b, err := os.ReadFile(filepath.Join(dir, "a.yaml")); existing && string(b) != "old" || !existing && err == nil {
			t.Fatalf("existing=%v: a staged file is visible before Commit", existing)
		}
		if err := st.Commit(); err != nil {
			t.Fatal(err)
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 2 {
			t.Fatalf("existing=%v: entries = %v", existing, entries)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, "a.yaml")); string(b) != "new a.yaml" {
			t.Errorf("existing=%v: a.yaml = %q", existing, b)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), ".*")); len(left) != 0 {
			t.Errorf("existing=%v: temporary files left: %v", existing, left)
		}
	}
}

func TestAbortLeavesTheDirectoryAsItWas(t *testing.T) {
	for _, existing := range []bool{false, true} {
		parent := t.TempDir()
		dir, st := stage(t, parent, existing)
		st.Write("a.yaml", []byte("new"))
		st.Write("b.yaml", []byte("new"))
		st.Abort()
		all, _ := filepath.Glob(filepath.Join(parent, "*", "*"))
		hidden, _ := filepath.Glob(filepath.Join(parent, ".*"))
		hiddenIn, _ := filepath.Glob(filepath.Join(dir, ".*"))
		want := 0
		if existing {
			want = 1
		}
		if len(all) != want || len(hidden)+len(hiddenIn) != 0 {
			t.Errorf("existing=%v: after Abort: %v %v %v", existing, all, hidden, hiddenIn)
		}
		if err := st.Commit(); err == nil {
			t.Errorf("existing=%v: Commit after Abort succeeded", existing)
		}
	}
}

func TestStageFailsBeforeAnyWorkOnAFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, []byte("x"), 0o644)
	if _, err := Stage(f); err == nil {
		t.Error("staging into a file succeeded")
	}
	if b, _ := os.ReadFile(f); string(b) != "x" {
		t.Error("the file was changed")
	}
	if _, err := Stage(filepath.Join(f, "sub")); err == nil {
		t.Error("staging under a file succeeded")
	}
}

// stage starts staging into parent/out, which, when existing, already holds
// a.yaml ("old").
func stage(t *testing.T, parent string, existing bool) (string, *Staging) {
	t.Helper()
	dir := filepath.Join(parent, "out")
	if existing {
		os.Mkdir(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("old"), 0o644)
	}
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, st
}

func TestAFailedCommitLeavesNothingItCreated(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "new", "out")
	st, err := Stage(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Write("a.yaml", []byte("x"))
	// Someone else fills dir before Commit: the rename must fail, keep
	// their file, and leave no staging directory beside it.
	os.Mkdir(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "theirs"), []byte("t"), 0o644)
	if err := st.Commit(); err == nil {
		t.Fatal("Commit over a non-empty directory succeeded")
	}
	entries, _ := os.ReadDir(filepath.Join(root, "new"))
	if len(entries) != 1 || entries[0].Name() != "out" {
		t.Errorf("left beside dir: %v", entries)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "theirs")); string(b) != "t" {
		t.Error("their file was changed")
	}
}
