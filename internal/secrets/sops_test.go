package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testKey(t *testing.T) (*Keyring, string) {
	t.Helper()
	id, rcp, err := GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKeyring(id)
	if err != nil {
		t.Fatal(err)
	}
	return k, rcp
}

var roundTrips = map[string]string{
	"db.env":      "# credentials\nUSER=storefront\nPASSWORD=s3cr3t-planted\nURL=postgres://u:p@h/db?x=1\nMULTI=a\\nb\nEMPTY=\n",
	"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t-planted\n  port: \"5432\"\ndata:\n  token: czNjcjN0\nlist:\n  - 1\n  - true\n  - 2.5\n  - null\n",
	"config.json": "{\"a\": \"s3cr3t-planted\", \"n\": 3, \"b\": false, \"nested\": {\"x\": [\"y\", 1.5]}}\n",
	"blob.pem":    "-----BEGIN KEY-----\ns3cr3t-planted\n-----END KEY-----\n",
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	k, rcp := testKey(t)
	for name, plain := range roundTrips {
		t.Run(name, func(t *testing.T) {
			enc, err := Encrypt(name, []byte(plain), EncryptOptions{Recipients: []string{rcp}})
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(enc, []byte("s3cr3t-planted")) {
				t.Fatalf("plaintext in the encrypted file:\n%s", enc)
			}
			if !IsEncrypted(name, enc) {
				t.Fatalf("IsEncrypted is false for\n%s", enc)
			}
			if IsEncrypted(name, []byte(plain)) {
				t.Fatal("IsEncrypted is true for the plaintext")
			}
			f, err := Parse(name, enc)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Recipients(); len(got) != 1 || got[0] != rcp {
				t.Errorf("recipients %v", got)
			}
			got, err := f.Decrypt(k)
			if err != nil {
				t.Fatal(err)
			}
			want := plain
			if name == "db.env" {
				want = strings.Replace(plain, "", "", 1)
			}
			if FormatOf(name) == FormatBinary || FormatOf(name) == FormatDotenv {
				if string(got) != want {
					t.Errorf("got\n%s\nwant\n%s", got, want)
				}
				return
			}
			// YAML and JSON: the same tree, in the same order.
			a, _ := parseTree(FormatOf(name), got)
			b, _ := parseTree(FormatOf(name), []byte(plain))
			ea, _ := emit(FormatJSON, a)
			eb, _ := emit(FormatJSON, b)
			if !bytes.Equal(ea, eb) {
				t.Errorf("got\n%s\nwant\n%s", ea, eb)
			}
		})
	}
}

func TestDecryptWithoutTheKeyNamesTheRecipients(t *testing.T) {
	_, rcp := testKey(t)
	other, _ := testKey(t)
	enc, err := Encrypt("db.env", []byte("A=b-planted\n"), EncryptOptions{Recipients: []string{rcp}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse("environments/prod/secrets/db.env", enc)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Decrypt(other)
	var nk *NoKeyError
	if !errors.As(err, &nk) || !strings.Contains(err.Error(), rcp) || !strings.Contains(err.Error(), "environments/prod/secrets/db.env") {
		t.Fatalf("err = %v", err)
	}
	_, err = f.Decrypt(nil)
	if !errors.As(err, &nk) || !strings.Contains(err.Error(), "no age keys found") {
		t.Fatalf("err = %v", err)
	}
}

func TestTamperedAndDamagedFilesAreRefused(t *testing.T) {
	k, rcp := testKey(t)
	enc, err := Encrypt("db.env", []byte("A=first-planted\nB=second-planted\n"), EncryptOptions{Recipients: []string{rcp}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(enc), "\n")
	cases := map[string]string{
		// Values swapped between keys: each decrypts only under its own key.
		"swapped": strings.Join(append([]string{"A=" + strings.TrimPrefix(lines[1], "B="), "B=" + strings.TrimPrefix(lines[0], "A=")}, lines[2:]...), "\n"),
		// A value removed: the MAC no longer matches.
		"removed": strings.Join(lines[1:], "\n"),
		// A plaintext value added by hand.
		"mixed": "C=plain-planted\n" + string(enc),
		// Cut in the middle of the metadata.
		"truncated": string(enc[:len(enc)/2]),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			f, err := Parse("x/db.env", []byte(body))
			if err == nil {
				_, err = f.Decrypt(k)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != "x/db.env" {
				t.Fatalf("err = %v", err)
			}
			if strings.Contains(err.Error(), "planted") {
				t.Fatalf("the error quotes a value: %v", err)
			}
			t.Log(err)
		})
	}
}

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	id, _, _ := GenerateIdentity()
	good := filepath.Join(dir, "keys.txt")
	os.WriteFile(good, []byte("# created: now\n"+id+"\n"), 0o600)
	open := filepath.Join(dir, "open.txt")
	os.WriteFile(open, []byte(id+"\n"), 0o644)
	notKey := filepath.Join(dir, "not.txt")
	os.WriteFile(notKey, []byte("AGE-SECRET-KEY-1planted-not-a-key\n"), 0o600)

	k := &Keyring{}
	if err := k.addFile("f", good, true); err != nil || k.Len() != 1 || len(k.Warnings) != 0 {
		t.Fatalf("good: %v %d %v", err, k.Len(), k.Warnings)
	}
	k = &Keyring{}
	if err := k.addFile("f", open, true); err != nil || k.Len() != 1 || len(k.Warnings) != 1 || !strings.Contains(k.Warnings[0], "0644") {
		t.Fatalf("open: %v %v", err, k.Warnings)
	}
	k = &Keyring{}
	err := k.addFile("SOPS_AGE_KEY_FILE="+notKey, notKey, true)
	if err == nil || !strings.Contains(err.Error(), "line 1: not an age identity") || strings.Contains(err.Error(), "planted") {
		t.Fatalf("not a key: %v", err)
	}
	k = &Keyring{}
	if err := k.addFile("f", filepath.Join(dir, "missing"), false); err != nil || k.Len() != 0 {
		t.Fatalf("missing, optional: %v", err)
	}
	if err := k.addFile("f", filepath.Join(dir, "missing"), true); err == nil {
		t.Fatal("missing, required: no error")
	}
}

func TestSplitCommand(t *testing.T) {
	got, err := splitCommand(`cat "a b" 'c d' e\ f`)
	if err != nil || strings.Join(got, "|") != "cat|a b|c d|e f" {
		t.Fatalf("%q %v", got, err)
	}
}

// KindEncrypted tells a manifest encrypted whole (no kind without the key)
// from one whose data alone is encrypted, in YAML and JSON.
func TestKindEncrypted(t *testing.T) {
	_, rcp := testKey(t)
	files := map[string]string{
		"secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: tls\nstringData:\n  password: x\n",
		"secret.json": `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tls"}, "stringData": {"password": "x"}}`,
	}
	for name, plain := range files {
		for _, c := range []struct {
			regex string
			want  bool
		}{{"", true}, {SecretDataRegex, false}} {
			enc, err := Encrypt(name, []byte(plain), EncryptOptions{Recipients: []string{rcp}, EncryptedRegex: c.regex})
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(name, enc)
			if err != nil {
				t.Fatal(err)
			}
			if got := f.KindEncrypted(); got != c.want {
				t.Errorf("%s, encrypted_regex %q: KindEncrypted %v, want %v", name, c.regex, got, c.want)
			}
		}
	}
}
