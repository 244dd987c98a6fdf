package sshsig

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/envctl/envctl/internal/testtools"
)

const ns = "envctl-plan"

// keygen makes a key of type typ with ssh-keygen and returns the private
// key file, the parsed signer and the public key line.
func keygen(t *testing.T, keygenBin, typ string) (string, ssh.Signer, string) {
	t.Helper()
	dir := t.TempDir()
	key := filepath.Join(dir, "id_"+typ)
	args := []string{"-q", "-t", typ, "-N", "", "-C", "reviewer@example.com", "-f", key}
	if typ == "rsa" {
		args = append(args, "-b", "2048")
	}
	if out, err := exec.Command(keygenBin, args...).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	pem, err := os.ReadFile(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	return key, signer, strings.TrimSpace(string(pub))
}

func TestSignaturesInteroperateWithSSHKeygenBothWays(t *testing.T) {
	bin := testtools.SSHKeygen(t)
	message := []byte("envctl plan prod 3f2a9c sha256:0123\n")
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		t.Run(typ, func(t *testing.T) {
			dir := t.TempDir()
			key, signer, pub := keygen(t, bin, typ)
			allowedFile := filepath.Join(dir, "allowed_signers")
			if err := os.WriteFile(allowedFile, []byte("reviewer@example.com "+pub+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			msgFile := filepath.Join(dir, "payload")
			if err := os.WriteFile(msgFile, message, 0o644); err != nil {
				t.Fatal(err)
			}

			// envctl signs, ssh-keygen -Y verify accepts.
			sig, err := Sign(signer, ns, message)
			if err != nil {
				t.Fatal(err)
			}
			sigFile := filepath.Join(dir, "envctl.sig")
			if err := os.WriteFile(sigFile, sig, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-Y", "verify", "-f", allowedFile, "-I", "reviewer@example.com", "-n", ns, "-s", sigFile)
			cmd.Stdin = strings.NewReader(string(message))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -Y verify refused envctl's signature: %v\n%s", err, out)
			}

			// ssh-keygen -Y sign signs, envctl accepts.
			if out, err := exec.Command(bin, "-Y", "sign", "-f", key, "-n", ns, msgFile).CombinedOutput(); err != nil {
				t.Fatalf("ssh-keygen -Y sign: %v\n%s", err, out)
			}
			theirs, err := os.ReadFile(msgFile + ".sig")
			if err != nil {
				t.Fatal(err)
			}
			got, err := Verify(theirs, ns, message)
			if err != nil {
				t.Fatalf("envctl refused ssh-keygen's signature: %v", err)
			}
			if string(got.Marshal()) != string(signer.PublicKey().Marshal()) {
				t.Fatal("Verify returned another key")
			}
			as, err := ParseAllowedSigners("allowed_signers", []byte("reviewer@example.com "+pub+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if p, err := as.Signer(got, ns, time.Now()); err != nil || p[0] != "reviewer@example.com" {
				t.Fatalf("Signer = %v, %v", p, err)
			}

			// Altered content, another namespace: refused by both.
			if _, err := Verify(theirs, ns, append(message, 'x')); err == nil {
				t.Error("a signature of other content verified")
			}
			if _, err := Verify(theirs, "git", message); err == nil || !strings.Contains(err.Error(), `namespace "envctl-plan", not "git"`) {
				t.Errorf("another namespace: %v", err)
			}
			cmd = exec.Command(bin, "-Y", "verify", "-f", allowedFile, "-I", "reviewer@example.com", "-n", ns, "-s", sigFile)
			cmd.Stdin = strings.NewReader(string(message) + "x")
			if err := cmd.Run(); err == nil {
				t.Error("ssh-keygen accepted a signature of other content")
			}
		})
	}
}

func TestAllowedSigners(t *testing.T) {
	_, signer, pub := keygen(t, testtools.SSHKeygen(t), "ed25519")
	_, other, _ := keygen(t, testtools.SSHKeygen(t), "ed25519")
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, file string
		key        ssh.PublicKey
		want       string // principals, or the error
	}{
		{"listed", "# reviewers\nalice@example.com,alice " + pub + "\n", signer.PublicKey(), "alice@example.com,alice"},
		{"not listed", "alice@example.com " + pub + "\n", other.PublicKey(), "is not in the allowed signers"},
		{"namespace allowed", `alice namespaces="git,envctl-*" ` + pub, signer.PublicKey(), "alice"},
		{"namespace not allowed", `alice namespaces="git" ` + pub, signer.PublicKey(), `line 1 does not allow namespace "envctl-plan"`},
		{"expired", `alice valid-before=20261201Z ` + pub, signer.PublicKey(), "line 1 expired at 2026-12-01T00:00:00Z"},
		{"not yet valid", `alice valid-after=20270101 ` + pub, signer.PublicKey(), "is valid only after"},
		{"quoted principal and options", `"alice" namespaces="envctl-plan",valid-after="20260101" ` + pub, signer.PublicKey(), "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, err := ParseAllowedSigners("allowed", []byte(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := as.Signer(tt.key, ns, now)
			got := strings.Join(p, ",")
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	for _, bad := range []struct{ file, want string }{
		{"", "allowed: no signer listed"},
		{"alice\n", "allowed:1: no public key after the principals"},
		{"# x\nalice cert-authority " + pub, "allowed:2: cert-authority entries are not supported"},
		{"alice frobnicate " + pub, `allowed:1: unknown option or key type "frobnicate"`},
		{"alice valid-after=2026 " + pub, "allowed:1: valid-after"},
	} {
		if _, err := ParseAllowedSigners("allowed", []byte(bad.file)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.file, err, bad.want)
		}
	}
}

func TestVerifyRefusesWhatIsNotASignature(t *testing.T) {
	for _, in := range []string{"", "hello", "-----BEGIN SSH SIGNATURE-----\n!!!\n-----END SSH SIGNATURE-----\n", "-----BEGIN SSH SIGNATURE-----\naGVsbG8=\n-----END SSH SIGNATURE-----\n"} {
		if _, err := Verify([]byte(in), ns, []byte("m")); err == nil {
			t.Errorf("%q verified", in)
		}
	}
}
