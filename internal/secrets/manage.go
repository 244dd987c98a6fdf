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

// EncryptFile encrypts a plaintext file in place for the recipients of the
// creation rule that matches it. The file is replaced atomically and keeps
// its mode.
func EncryptFile(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	if IsEncrypted(file, b) {
		return &FileError{File: file, Problem: "is already encrypted (use `envctl secrets rotate` to re-encrypt)"}
	}
	rule, err := RuleForFile(file)
	if err != nil {
		return err
	}
	opts, err := rule.Options(file)
	if err != nil {
		return err
	}
	out, err := Encrypt(file, b, opts)
	if err != nil {
		return err
	}
	return atomicwrite.File(file, out)
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
