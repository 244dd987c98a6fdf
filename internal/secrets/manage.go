package secrets

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"

	"github.com/envctl/envctl/internal/atomicwrite"
)

// RuleForFile finds the .sops.yaml nearest above file and the creation
// rule that matches it.
func RuleForFile(file string) (*CreationRule, error) {
	cfgPath := FindConfig(filepath.Dir(file))
	if cfgPath == "" {
		return nil, fmt.Errorf("%s: no %s in its directory or above it (it holds the creation rules saying whom to encrypt for)", file, ConfigName)
	}
	cfg, err := LoadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	return cfg.RuleFor(file)
}

// SecretDataRegex is the encrypted_regex envctl gives a Kubernetes Secret
// manifest whose creation rule sets none: only its data and stringData are
// encrypted, as Flux's and most GitOps guides configure sops.
const SecretDataRegex = "^(data|stringData)$"

// EncryptFile encrypts a plaintext file in place for the recipients of the
// creation rule that matches it. The file is replaced atomically and keeps
// its mode. A Kubernetes Secret manifest whose rule says nothing of what
// to encrypt gets SecretDataRegex (dataOnly): encrypted whole, its
// apiVersion, kind and name would be ciphertext, which a render without
// keys (--no-decrypt) cannot place and a review cannot read.
func EncryptFile(file string) (dataOnly bool, err error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return false, err
	}
	if IsEncrypted(file, b) {
		return false, &FileError{File: file, Problem: "is already encrypted (use `envctl secrets rotate` to re-encrypt)"}
	}
	rule, err := RuleForFile(file)
	if err != nil {
		return false, err
	}
	opts, err := rule.Options(file)
	if err != nil {
		return false, err
	}
	if opts.EncryptedRegex == "" && opts.UnencryptedSuffix == "" && isSecretManifest(file, b) {
		opts.EncryptedRegex, dataOnly = SecretDataRegex, true
	}
	out, err := Encrypt(file, b, opts)
	if err != nil {
		return false, err
	}
	return dataOnly, atomicwrite.File(file, out)
}

// isSecretManifest says whether a YAML or JSON file is a v1 Secret.
func isSecretManifest(file string, b []byte) bool {
	f := FormatOf(file)
	if f != FormatYAML && f != FormatJSON {
		return false
	}
	t, err := plainTree(f, b)
	if err != nil {
		return false
	}
	av, kind := t.get("apiVersion"), t.get("kind")
	return av != nil && kind != nil && av.value == "v1" && kind.value == "Secret"
}

// RotateFile re-encrypts a SOPS file with a fresh data key for the
// recipients its creation rule names now. The plaintext is unchanged, so
// renders are too.
func RotateFile(file string, k *Keyring) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	f, err := Parse(file, b)
	if err != nil {
		return err
	}
	t, err := f.decryptTree(k)
	if err != nil {
		return err
	}
	rule, err := RuleForFile(file)
	if err != nil {
		return err
	}
	opts, err := rule.Options(file)
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	out, err := seal(file, f.Format, t, key, opts, nil)
	if err != nil {
		return err
	}
	return atomicwrite.File(file, out)
}

// WriteFile replaces a SOPS file atomically, keeping its mode.
func WriteFile(path string, b []byte) error { return atomicwrite.File(path, b) }
