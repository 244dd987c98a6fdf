// Package sshsig signs and verifies messages in the SSH signature format
// of OpenSSH's PROTOCOL.sshsig: what `ssh-keygen -Y sign` writes, `ssh-keygen
// -Y verify` checks, and git uses for signed commits. A reviewer signs
// with the SSH key they already push with; the repository lists who may
// sign in an allowed-signers file, in ssh-keygen's format.
package sshsig

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/ssh"
)

const (
	magic      = "SSHSIG"
	version    = 1
	armorBegin = "-----BEGIN SSH SIGNATURE-----"
	armorEnd   = "-----END SSH SIGNATURE-----"
)

// signedData is the blob the key signs: the namespace binds the signature
// to one use, so a signed plan cannot pass for a signed commit.
func signedData(namespace, hashAlg string, digest []byte) []byte {
	return ssh.Marshal(struct {
		Magic     [6]byte
		Namespace string
		Reserved  string
		HashAlg   string
		Hash      string
	}{toMagic(), namespace, "", hashAlg, string(digest)})
}

func toMagic() (m [6]byte) {
	copy(m[:], magic)
	return m
}

type wireSignature struct {
	Magic     [6]byte
	Version   uint32
	PublicKey string
	Namespace string
	Reserved  string
	HashAlg   string
	Signature string
}

func hashFor(alg string) (hash.Hash, error) {
	switch alg {
	case "sha512":
		return sha512.New(), nil
	case "sha256":
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("unsupported hash algorithm %q", alg)
}

// Sign signs message for namespace and returns the armored signature, as
// `ssh-keygen -Y sign -n NAMESPACE` does.
func Sign(signer ssh.Signer, namespace string, message []byte) ([]byte, error) {
	if namespace == "" {
		return nil, errors.New("sshsig: empty namespace")
	}
	h := sha512.Sum512(message)
	data := signedData(namespace, "sha512", h[:])
	var sig *ssh.Signature
	var err error
	if as, ok := signer.(ssh.AlgorithmSigner); ok && signer.PublicKey().Type() == ssh.KeyAlgoRSA {
		// ssh-rsa (SHA-1) signatures are refused by ssh-keygen -Y verify.
		sig, err = as.SignWithAlgorithm(rand.Reader, data, ssh.KeyAlgoRSASHA512)
	} else {
		sig, err = signer.Sign(rand.Reader, data)
	}
	if err != nil {
		return nil, fmt.Errorf("sshsig: signing: %w", err)
	}
	blob := ssh.Marshal(wireSignature{
		Magic: toMagic(), Version: version,
		PublicKey: string(signer.PublicKey().Marshal()),
		Namespace: namespace, HashAlg: "sha512",
		Signature: string(ssh.Marshal(sig)),
	})
	return armor(blob), nil
}

func armor(blob []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(blob)
	var b bytes.Buffer
	b.WriteString(armorBegin + "\n")
	for len(enc) > 70 {
		b.WriteString(enc[:70] + "\n")
		enc = enc[70:]
	}
	b.WriteString(enc + "\n" + armorEnd + "\n")
	return b.Bytes()
}

func unarmor(armored []byte) ([]byte, error) {
	s := strings.TrimSpace(string(armored))
	if !strings.HasPrefix(s, armorBegin) || !strings.HasSuffix(s, armorEnd) {
		return nil, errors.New("not an SSH signature (no BEGIN/END SSH SIGNATURE lines)")
	}
	body := strings.Join(strings.Fields(s[len(armorBegin):len(s)-len(armorEnd)]), "")
	blob, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("SSH signature: %w", err)
	}
	return blob, nil
}

// Verify checks an armored signature of message in namespace and returns
// the key that made it. Whether that key may sign is the caller's
// question (see AllowedSigners).
func Verify(armored []byte, namespace string, message []byte) (ssh.PublicKey, error) {
	blob, err := unarmor(armored)
	if err != nil {
		return nil, err
	}
	var w wireSignature
	if err := ssh.Unmarshal(blob, &w); err != nil {
		return nil, fmt.Errorf("SSH signature: malformed: %w", err)
	}
	if string(w.Magic[:]) != magic || w.Version != version {
		return nil, fmt.Errorf("SSH signature: unsupported format (version %d)", w.Version)
	}
	if w.Namespace != namespace {
		return nil, fmt.Errorf("SSH signature made for namespace %q, not %q", w.Namespace, namespace)
	}
	pub, err := ssh.ParsePublicKey([]byte(w.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("SSH signature: its public key: %w", err)
	}
	var sig ssh.Signature
	if err := ssh.Unmarshal([]byte(w.Signature), &sig); err != nil {
		return nil, fmt.Errorf("SSH signature: malformed: %w", err)
	}
	h, err := hashFor(w.HashAlg)
	if err != nil {
		return nil, err
	}
	h.Write(message)
	if err := pub.Verify(signedData(namespace, w.HashAlg, h.Sum(nil)), &sig); err != nil {
		return nil, errors.New("SSH signature does not match the message: it was made for other content, or altered")
	}
	return pub, nil
}
