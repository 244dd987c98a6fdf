package secrets

import (
	"fmt"
	"strings"
)

// FileError is a SOPS file envctl cannot use: damaged, tampered with, or
// of a kind it does not decrypt. Problem never quotes a value.
type FileError struct {
	File    string
	Problem string
}

func (e *FileError) Error() string { return e.File + ": " + e.Problem }

// NoKeyError is a SOPS file none of the available identities can decrypt.
// It names the recipients the file is encrypted for, so the reader knows
// which key to ask for, and where envctl looked.
type NoKeyError struct {
	File       string
	Recipients []string
	Other      []string // other sops key types the file lists (kms, pgp, ...)
	Searched   []string
}

func (e *NoKeyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: cannot decrypt: no age identity for any of its recipients (%s)", e.File, strings.Join(e.Recipients, ", "))
	if len(e.Other) > 0 {
		fmt.Fprintf(&b, "; its %s keys are not used by envctl", strings.Join(e.Other, ", "))
	}
	if len(e.Searched) == 0 {
		fmt.Fprintf(&b, "; no age keys found: set %s, %s or %s, or put them in ~/.config/%s", EnvAgeKeyFile, EnvAgeKey, EnvAgeKeyCmd, userKeysPath)
	} else {
		fmt.Fprintf(&b, "; keys tried: %s", strings.Join(e.Searched, ", "))
	}
	b.WriteString(" (or render with --no-decrypt)")
	return b.String()
}
