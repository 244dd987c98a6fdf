package secrets

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// changedLines lists the lines of b that are not lines of a.
func changedLines(a, b []byte) []string {
	old := map[string]bool{}
	for _, l := range strings.Split(string(a), "\n") {
		old[l] = true
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !old[l] {
			out = append(out, l)
		}
	}
	return out
}

func TestUpdateReencryptsOnlyWhatChanged(t *testing.T) {
	k, rcp := testKey(t)
	cases := []struct {
		name, before, after string
		// want are prefixes of the lines that may change: the changed
		// values and the metadata an update renews.
		want []string
	}{
		{"db.env", "# c\nUSER=app\nPASSWORD=old\nURL=x\n", "# c\nUSER=app\nPASSWORD=new-value\nURL=x\nADDED=1\n",
			[]string{"PASSWORD=ENC[", "ADDED=ENC[", "sops_lastmodified=", "sops_mac=ENC["}},
		{"secret.yaml", "a: one\nb:\n  c: two\n  d: [1, 2]\n", "a: one\nb:\n  c: changed\n  d: [1, 2]\n",
			[]string{"        c: ENC[", "    c: ENC[", "  c: ENC[", "    lastmodified:", "    mac: ENC[", "  lastmodified:", "  mac: ENC["}},
		{"config.json", `{"a": "one", "b": {"c": "two"}}`, `{"a": "one", "b": {"c": "changed"}}`,
			[]string{`            "c": "ENC[`, `        "c": "ENC[`, `        "lastmodified":`, `        "mac": "ENC[`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, err := Encrypt(c.name, []byte(c.before), EncryptOptions{Recipients: []string{rcp}})
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(c.name, enc)
			if err != nil {
				t.Fatal(err)
			}
			same, _ := f.Decrypt(k)
			if out, changed, err := f.Update(same, k); err != nil || changed || out != nil {
				t.Fatalf("an unchanged plaintext: changed %v, err %v", changed, err)
			}
			out, changed, err := f.Update([]byte(c.after), k)
			if err != nil || !changed {
				t.Fatalf("changed %v, err %v", changed, err)
			}
			for _, l := range changedLines(enc, out) {
				ok := false
				for _, w := range c.want {
					ok = ok || strings.HasPrefix(l, w)
				}
				if !ok {
					t.Errorf("line changed that should not have: %q\nbefore:\n%s\nafter:\n%s", l, enc, out)
				}
			}
			g, err := Parse(c.name, out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Decrypt(k)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := parseTree(FormatOf(c.name), got)
			b, _ := parseTree(FormatOf(c.name), []byte(c.after))
			if !sameTree(a, b) {
				t.Errorf("decrypts to\n%s\nwant\n%s", got, c.after)
			}
		})
	}
}

func TestUpdateKeepsTheFilesIndentation(t *testing.T) {
	k, rcp := testKey(t)
	enc, _ := Encrypt("s.yaml", []byte("a: x\nb: y\n"), EncryptOptions{Recipients: []string{rcp}})
	// As the sops CLI writes YAML: four spaces.
	f, _ := Parse("s.yaml", enc)
	tree, _ := parseTree(FormatYAML, enc)
	four, _ := emitIndent(FormatYAML, tree, "    ")
	f, err := Parse("s.yaml", four)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := f.Set("b", "z", k)
	if err != nil {
		t.Fatal(err)
	}
	if l := changedLines(four, out); len(l) < 2 || len(l) > 3 {
		t.Errorf("want 3 changed lines (b, lastmodified, mac), got %q", l)
	}
}

func TestSetAddsAndReplacesOneValue(t *testing.T) {
	k, rcp := testKey(t)
	enc, _ := Encrypt("db.env", []byte("A=1\nB=2\n"), EncryptOptions{Recipients: []string{rcp}})
	f, _ := Parse("db.env", enc)
	out, changed, err := f.Set("B", "two", k)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if l := changedLines(enc, out); len(l) < 2 || len(l) > 3 || !strings.HasPrefix(l[0], "B=ENC[") {
		t.Errorf("changed lines %q", l)
	}
	g, _ := Parse("db.env", out)
	if _, changed, _ := g.Set("B", "two", k); changed {
		t.Error("setting the value a key has changed the file")
	}
	out, _, _ = g.Set("C", "3", k)
	g, _ = Parse("db.env", out)
	got, _ := g.Decrypt(k)
	if string(got) != "A=1\nB=two\nC=3\n" {
		t.Errorf("got %q", got)
	}
	if _, _, err := g.Set("sops_mac", "x", k); err == nil {
		t.Error("a sops_ key was set")
	}
}

func TestUpdateWithoutTheKeyNamesTheFileAndRecipients(t *testing.T) {
	_, rcp := testKey(t)
	other, _ := testKey(t)
	enc, _ := Encrypt("db.env", []byte("A=1\n"), EncryptOptions{Recipients: []string{rcp}})
	f, _ := Parse("db.env", enc)
	_, _, err := f.Update([]byte("A=2\n"), other)
	var nk *NoKeyError
	if !errors.As(err, &nk) || !strings.Contains(err.Error(), rcp) || !strings.Contains(err.Error(), "db.env") {
		t.Errorf("got %v", err)
	}
}

// editorScript writes an editor: a shell script run as `sh -c 'SCRIPT
// "$@"'`.
func editorScript(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "editor.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestEditFile(t *testing.T) {
	k, rcp := testKey(t)
	dir := t.TempDir()
	p := filepath.Join(dir, "db.env")
	enc, _ := Encrypt(p, []byte("USER=app\nPASSWORD=old\n"), EncryptOptions{Recipients: []string{rcp}})
	os.WriteFile(p, enc, 0o640)
	seen := filepath.Join(dir, "seen")
	edit := func(editor string) (bool, error) {
		var out bytes.Buffer
		return EditFile(p, EditOptions{Editor: editor, Keys: k, In: strings.NewReader(""), Out: &out, ErrOut: &out})
	}
	t.Run("the temporary file is private and removed", func(t *testing.T) {
		ed := editorScript(t, `stat -c '%a' "$1" > `+seen+`; stat -c '%a' "$(dirname "$1")" >> `+seen+`; echo "$1" >> `+seen)
		if changed, err := edit(ed); err != nil || changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		b, _ := os.ReadFile(seen)
		lines := strings.Fields(string(b))
		if len(lines) != 3 || lines[0] != "600" || lines[1] != "700" {
			t.Fatalf("modes %q", lines)
		}
		if _, err := os.Stat(filepath.Dir(lines[2])); !os.IsNotExist(err) {
			t.Errorf("the temporary directory is still there: %v", err)
		}
		if now, _ := os.ReadFile(p); !bytes.Equal(now, enc) {
			t.Error("an edit that changed nothing changed the file")
		}
	})
	t.Run("an editor that fails changes nothing", func(t *testing.T) {
		ed := editorScript(t, `echo PASSWORD=new > "$1"; exit 3`)
		_, err := edit(ed)
		var ee *EditorError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), "exited with status 3") {
			t.Fatalf("got %v", err)
		}
		if now, _ := os.ReadFile(p); !bytes.Equal(now, enc) {
			t.Error("the file changed")
		}
	})
	t.Run("SIGTERM stops the editor and removes the file", func(t *testing.T) {
		ed := editorScript(t, `echo "$1" > `+seen+`.path; exec sleep 30`)
		go func() {
			for i := 0; i < 200; i++ {
				if _, err := os.Stat(seen + ".path"); err == nil {
					syscall.Kill(os.Getpid(), syscall.SIGTERM)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		start := time.Now()
		_, err := edit(ed)
		if err == nil || !strings.Contains(err.Error(), "terminated") || time.Since(start) > 20*time.Second {
			t.Fatalf("got %v after %v", err, time.Since(start))
		}
		b, _ := os.ReadFile(seen + ".path")
		if _, err := os.Stat(strings.TrimSpace(string(b))); !os.IsNotExist(err) {
			t.Errorf("the temporary file is still there: %v", err)
		}
	})
	t.Run("content that does not parse is edited again on request", func(t *testing.T) {
		count := filepath.Join(t.TempDir(), "count")
		// First a line that is no KEY=VALUE; then that line fixed.
		ed := editorScript(t, `if [ -e `+count+` ]; then sed -i 's/^broken$/FIXED=1/' "$1"; else echo broken >> "$1"; touch `+count+`; fi`)
		var out bytes.Buffer
		before, _ := os.ReadFile(p)
		_, err := EditFile(p, EditOptions{Editor: ed, Keys: k, In: strings.NewReader(""), Out: &out, ErrOut: &out, Reopen: true})
		if err == nil || !strings.Contains(err.Error(), "not KEY=VALUE; the file is unchanged") {
			t.Fatalf("no answer: got %v", err)
		}
		if now, _ := os.ReadFile(p); !bytes.Equal(now, before) {
			t.Error("the file changed")
		}
		os.Remove(count)
		// A file, as a terminal is: the editor is given it and reads
		// nothing, and the answer is left for the prompt.
		in, w, _ := os.Pipe()
		w.Write([]byte("\n"))
		w.Close()
		defer in.Close()
		changed, err := EditFile(p, EditOptions{Editor: ed, Keys: k, In: in, Out: &out, ErrOut: &out, Reopen: true})
		if err != nil || !changed || !strings.Contains(out.String(), "Press Enter to edit it again") {
			t.Fatalf("changed %v, err %v, %s", changed, err, out.String())
		}
		now, _ := os.ReadFile(p)
		f, _ := Parse(p, now)
		got, _ := f.Decrypt(k)
		if string(got) != "USER=app\nPASSWORD=old\nFIXED=1\n" {
			t.Errorf("got %q", got)
		}
		os.WriteFile(p, before, 0o640)
	})
	t.Run("a change is re-encrypted, the mode kept", func(t *testing.T) {
		ed := editorScript(t, `sed -i 's/^PASSWORD=.*/PASSWORD=new/' "$1"`)
		if changed, err := edit(ed); err != nil || !changed {
			t.Fatalf("changed %v, err %v", changed, err)
		}
		now, _ := os.ReadFile(p)
		if l := changedLines(enc, now); len(l) < 2 || len(l) > 3 {
			t.Errorf("changed lines %q", l)
		}
		if st, _ := os.Stat(p); st.Mode().Perm() != 0o640 {
			t.Errorf("mode %v", st.Mode())
		}
		f, _ := Parse(p, now)
		got, _ := f.Decrypt(k)
		if string(got) != "USER=app\nPASSWORD=new\n" {
			t.Errorf("got %q", got)
		}
	})
}

// TestUpdateKeepsSSHRecipients: a file for an SSH key and an age key,
// set with the age key, still decrypts with the SSH key alone.
func TestUpdateKeepsSSHRecipients(t *testing.T) {
	keygen, err := exec.LookPath("ssh-keygen")
	if err != nil {
		t.Skip("no ssh-keygen")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "id_ed25519")
	if out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	pub, _ := os.ReadFile(key + ".pub")
	k, rcp := testKey(t)
	enc, err := Encrypt("db.env", []byte("A=1\nB=2\n"), EncryptOptions{Recipients: []string{strings.TrimSpace(string(pub)), rcp}})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := Parse("db.env", enc)
	out, _, err := f.Set("B", "3", k)
	if err != nil {
		t.Fatal(err)
	}
	ssh := &Keyring{}
	if err := ssh.addSSH("test", key, true); err != nil {
		t.Fatal(err)
	}
	g, err := Parse("db.env", out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Decrypt(ssh)
	if err != nil || string(got) != "A=1\nB=3\n" {
		t.Errorf("with the SSH key: %q, %v", got, err)
	}
}
