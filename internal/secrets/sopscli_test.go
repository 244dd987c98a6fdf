package secrets

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/envctl/envctl/internal/testtools"
)

// sameContent compares what two files of a format say: bytes for dotenv
// and binary, the tree for YAML and JSON (the CLI's indentation differs).
func sameContent(t *testing.T, name string, got, want []byte) {
	t.Helper()
	f := FormatOf(name)
	if f == FormatYAML || f == FormatJSON {
		a, err1 := parseTree(f, got)
		b, err2 := parseTree(f, want)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v %v", name, err1, err2)
		}
		got, _ = emit(FormatJSON, a)
		want, _ = emit(FormatJSON, b)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: got\n%s\nwant\n%s", name, got, want)
	}
}

// TestFilesEnvctlWritesDecryptWithTheSopsCLI and the reverse: the format
// is sops', both ways, in every format.
func TestFilesEnvctlWritesDecryptWithTheSopsCLI(t *testing.T) {
	sops := testtools.Sops(t)
	id, rcp, _ := GenerateIdentity()
	for name, plain := range roundTrips {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, name)
			enc, err := Encrypt(p, []byte(plain), EncryptOptions{Recipients: []string{rcp}})
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(p, enc, 0o600)
			cmd := exec.Command(sops, "--disable-version-check", "-d", p)
			cmd.Env = append(os.Environ(), "SOPS_AGE_KEY="+id, "SOPS_AGE_KEY_FILE=", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sops -d: %v: %s\n%s", err, stderr.String(), enc)
			}
			sameContent(t, name, out, []byte(plain))
		})
	}
}

func TestFilesTheSopsCLIWritesDecryptWithEnvctl(t *testing.T) {
	sops := testtools.Sops(t)
	id, rcp, _ := GenerateIdentity()
	k, _ := NewKeyring(id)
	for name, plain := range roundTrips {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ConfigName), []byte("creation_rules:\n  - age: "+rcp+"\n"), 0o600)
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(plain), 0o600)
			env := append(os.Environ(), "SOPS_AGE_KEY="+id, "SOPS_AGE_KEY_FILE=", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
			for _, args := range [][]string{{"-e", "-i", name}, {"rotate", "-i", name}} {
				cmd := exec.Command(sops, append([]string{"--disable-version-check"}, args...)...)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("sops %v: %v: %s", args, err, out)
				}
				b, _ := os.ReadFile(p)
				if !IsEncrypted(p, b) {
					t.Fatalf("not recognised as SOPS:\n%s", b)
				}
				f, err := Parse(p, b)
				if err != nil {
					t.Fatal(err)
				}
				got, err := f.Decrypt(k)
				if err != nil {
					t.Fatalf("after sops %v: %v\n%s", args, err, b)
				}
				sameContent(t, name, got, []byte(plain))
			}
		})
	}
}

// TestFilesTheSopsCLIWritesUpdateInPlace: a file the sops CLI encrypted,
// updated by envctl (secrets edit and set), changes only in the lines of
// the changed value and the MAC, and still decrypts with the CLI.
func TestFilesTheSopsCLIWritesUpdateInPlace(t *testing.T) {
	sops := testtools.Sops(t)
	id, rcp, _ := GenerateIdentity()
	k, _ := NewKeyring(id)
	files := map[string][2]string{
		"db.env":      {"USER=app\nPASSWORD=old\n", "USER=app\nPASSWORD=new\n"},
		"secret.yaml": {"stringData:\n  user: app\n  password: old\n", "stringData:\n  user: app\n  password: new\n"},
		"config.json": {"{\"user\": \"app\", \"password\": \"old\"}\n", "{\"user\": \"app\", \"password\": \"new\"}\n"},
	}
	for name, c := range files {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, ConfigName), []byte("creation_rules:\n  - age: "+rcp+"\n"), 0o600)
			p := filepath.Join(dir, name)
			os.WriteFile(p, []byte(c[0]), 0o600)
			env := append(os.Environ(), "SOPS_AGE_KEY="+id, "SOPS_AGE_KEY_FILE=", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
			cmd := exec.Command(sops, "--disable-version-check", "-e", "-i", name)
			cmd.Dir, cmd.Env = dir, env
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("sops -e: %v: %s", err, out)
			}
			before, _ := os.ReadFile(p)
			f, err := Parse(p, before)
			if err != nil {
				t.Fatal(err)
			}
			after, changed, err := f.Update([]byte(c[1]), k)
			if err != nil || !changed {
				t.Fatalf("changed %v, err %v", changed, err)
			}
			if l := changedLines(before, after); len(l) < 2 || len(l) > 3 {
				t.Errorf("want the value, mac and lastmodified lines changed, got %q\nbefore:\n%s\nafter:\n%s", l, before, after)
			}
			os.WriteFile(p, after, 0o600)
			cmd = exec.Command(sops, "--disable-version-check", "-d", name)
			cmd.Dir, cmd.Env = dir, env
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("sops -d after envctl's update: %v: %s\n%s", err, stderr.String(), after)
			}
			sameContent(t, name, out, []byte(c[1]))
		})
	}
}

// commented is a YAML SOPS source with comments everywhere sops keeps
// them: the file's head, before keys, inline after values, in lists, and
// at the end. One comment holds the planted value: sops encrypts comments.
const commented = `# head of the file
apiVersion: v1 # inline after a value
kind: Secret
# before stringData
stringData:
  # before password, s3cr3t-planted
  password: s3cr3t-planted
  port: "5432" # the port
list:
  # before the first item
  - 1
  - two # inline on an item
# at the end
`

// commentedCLI is commented without the comments in the list: sops
// v3.13.2 writes an encrypted comment in a list as an item ("- ENC[...,
// type:comment]", its walkSlice does not wrap it back into a comment) and
// then fails its own MAC check on the file. envctl reads such items as
// comments, and writes comments in lists as comment lines, which the CLI
// decrypts.
var commentedCLI = strings.Replace(strings.Replace(commented, "  # before the first item\n", "", 1), " # inline on an item", "", 1)

var commentRE = regexp.MustCompile(`#.*$`)

// commentLines are a YAML file's comments in order, without the sops
// metadata's (none) or the lines they were on.
func commentLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if c := commentRE.FindString(l); c != "" {
			out = append(out, c)
		}
	}
	return out
}

// TestYAMLCommentsSurviveEveryWay: comments in a YAML SOPS file are kept
// where sops keeps them, encrypted, whichever tool wrote the file: envctl
// encrypting, envctl decrypting what the sops CLI encrypted, and envctl
// updating one value of it (secrets set), which the CLI then decrypts.
func TestYAMLCommentsSurviveEveryWay(t *testing.T) {
	sops := testtools.Sops(t)
	id, rcp, _ := GenerateIdentity()
	k, _ := NewKeyring(id)
	want := commentLines([]byte(commented))
	dir := t.TempDir()
	env := append(os.Environ(), "SOPS_AGE_KEY="+id, "SOPS_AGE_KEY_FILE=", "HOME="+dir, "XDG_CONFIG_HOME="+dir)
	os.WriteFile(filepath.Join(dir, ConfigName), []byte("creation_rules:\n  - age: "+rcp+"\n"), 0o600)
	sopsRun := func(args ...string) []byte {
		t.Helper()
		cmd := exec.Command(sops, append([]string{"--disable-version-check"}, args...)...)
		cmd.Dir, cmd.Env = dir, env
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sops %v: %v: %s", args, err, stderr.String())
		}
		return out
	}
	same := func(what string, got []byte) {
		t.Helper()
		if g := commentLines(got); !slices.Equal(g, want) {
			t.Errorf("%s: comments\n%q\nwant\n%q\nin:\n%s", what, g, want, got)
		}
	}

	// envctl encrypts; the comments are ciphertext; sops decrypts them.
	enc, err := Encrypt(filepath.Join(dir, "mine.yaml"), []byte(commented), EncryptOptions{Recipients: []string{rcp}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, []byte("s3cr3t-planted")) || bytes.Contains(enc, []byte("before password")) {
		t.Fatalf("a comment in plaintext:\n%s", enc)
	}
	os.WriteFile(filepath.Join(dir, "mine.yaml"), enc, 0o600)
	same("sops -d of envctl's file", sopsRun("-d", "mine.yaml"))
	f, err := Parse("mine.yaml", enc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.Decrypt(k)
	if err != nil {
		t.Fatal(err)
	}
	same("envctl's decryption of its own file", got)

	// sops encrypts; envctl decrypts, then changes one value.
	want = commentLines([]byte(commentedCLI))
	os.WriteFile(filepath.Join(dir, "theirs.yaml"), []byte(commentedCLI), 0o600)
	sopsRun("-e", "-i", "theirs.yaml")
	b, _ := os.ReadFile(filepath.Join(dir, "theirs.yaml"))
	f, err = Parse("theirs.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	got, err = f.Decrypt(k)
	if err != nil {
		t.Fatal(err)
	}
	same("envctl's decryption of the CLI's file", got)
	next := bytes.Replace(got, []byte("password: s3cr3t-planted"), []byte("password: rotated"), 1)
	after, changed, err := f.Update(next, k)
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	if l := changedLines(b, after); len(l) < 2 || len(l) > 3 {
		t.Errorf("want the value, mac and lastmodified lines changed, got %q\nbefore:\n%s\nafter:\n%s", l, b, after)
	}
	os.WriteFile(filepath.Join(dir, "theirs.yaml"), after, 0o600)
	out := sopsRun("-d", "theirs.yaml")
	same("sops -d after envctl's update", out)
	if !bytes.Contains(out, []byte("password: rotated")) {
		t.Errorf("the update is not there:\n%s", out)
	}
}
