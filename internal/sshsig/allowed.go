package sshsig

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// AllowedSigners is an allowed-signers file (ssh-keygen(1), "ALLOWED
// SIGNERS"): one key per line, with the principals it signs as.
type AllowedSigners struct {
	entries []allowed
}

type allowed struct {
	principals  []string
	namespaces  []string // empty: any
	validAfter  time.Time
	validBefore time.Time
	key         ssh.PublicKey
	line        int
}

// ParseAllowedSigners reads an allowed-signers file. name is for errors.
// Certificate authorities (cert-authority) are refused rather than
// half-supported: every signer is listed by key.
func ParseAllowedSigners(name string, data []byte) (*AllowedSigners, error) {
	as := &AllowedSigners{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		e, err := parseAllowed(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		e.line = n
		as.entries = append(as.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(as.entries) == 0 {
		return nil, fmt.Errorf("%s: no signer listed", name)
	}
	return as, nil
}

func parseAllowed(line string) (allowed, error) {
	var e allowed
	principals, rest := cutField(line)
	e.principals = strings.Split(principals, ",")
	if strings.TrimSpace(rest) == "" {
		return e, fmt.Errorf("no public key after the principals")
	}
	// The rest is authorized_keys syntax: options, then the key.
	key, _, options, _, err := ssh.ParseAuthorizedKey([]byte(rest))
	if err != nil {
		return e, fmt.Errorf("no valid public key: %w", err)
	}
	e.key = key
	for _, opt := range options {
		if err := e.option(opt); err != nil {
			return e, err
		}
	}
	return e, nil
}

func (e *allowed) option(opt string) error {
	name, value, _ := strings.Cut(opt, "=")
	value = strings.Trim(value, `"`)
	switch strings.ToLower(name) {
	case "namespaces":
		e.namespaces = strings.Split(value, ",")
	case "valid-after", "valid-before":
		t, err := parseSSHTime(value)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if strings.EqualFold(name, "valid-after") {
			e.validAfter = t
		} else {
			e.validBefore = t
		}
	case "cert-authority":
		return fmt.Errorf("cert-authority entries are not supported: list each signer's key")
	default:
		return fmt.Errorf("unknown option or key type %q", opt)
	}
	return nil
}

// parseSSHTime reads YYYYMMDD[HHMM[SS]][Z].
func parseSSHTime(s string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(s, "Z") {
		s, loc = strings.TrimSuffix(s, "Z"), time.UTC
	}
	for _, layout := range []string{"20060102150405", "200601021504", "20060102"} {
		if len(s) == len(layout) {
			return time.ParseInLocation(layout, s, loc)
		}
	}
	return time.Time{}, fmt.Errorf("%q is not YYYYMMDD[HHMM[SS]][Z]", s)
}

func cutField(s string) (string, string) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, `"`) {
		if i := strings.Index(s[1:], `"`); i >= 0 {
			return s[1 : i+1], s[i+2:]
		}
	}
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// Signer returns the principals that key may sign as in namespace at
// time now, or an error saying why it may not.
func (as *AllowedSigners) Signer(key ssh.PublicKey, namespace string, now time.Time) ([]string, error) {
	var reason string
	for _, e := range as.entries {
		if !bytes.Equal(e.key.Marshal(), key.Marshal()) {
			continue
		}
		switch {
		case len(e.namespaces) > 0 && !matchAny(e.namespaces, namespace):
			reason = fmt.Sprintf("line %d does not allow namespace %q", e.line, namespace)
		case !e.validAfter.IsZero() && now.Before(e.validAfter):
			reason = fmt.Sprintf("line %d is valid only after %s", e.line, e.validAfter.Format(time.RFC3339))
		case !e.validBefore.IsZero() && now.After(e.validBefore):
			reason = fmt.Sprintf("line %d expired at %s", e.line, e.validBefore.Format(time.RFC3339))
		default:
			return e.principals, nil
		}
	}
	if reason != "" {
		return nil, fmt.Errorf("key %s: %s", ssh.FingerprintSHA256(key), reason)
	}
	return nil, fmt.Errorf("key %s is not in the allowed signers", ssh.FingerprintSHA256(key))
}

func matchAny(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok || p == s {
			return true
		}
	}
	return false
}
