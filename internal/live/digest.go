package live

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/sync/errgroup"
)

// SaltAnnotation carried the one salt of a format-1 snapshot (envctl
// before snapshot headers). Snapshots no longer write it; a file whose
// Secrets carry it is refused, with a hint to take it again.
const SaltAnnotation = "envctl.dev/snapshot-salt"

// legacyDigestPrefix marks a format-1 digest: SHA-256 of one salt per file
// and the value. Anyone holding the file can test guesses at a billion a
// second, so such digests are refused, not compared.
const legacyDigestPrefix = "envctl-sha256:"

// Digest schemes. A digest is stored as the Secret value itself (base64
// in data, as any value), so the snapshot stays a valid Secret:
//
//	envctl-scrypt$ln=15,r=8,p=1$SALT$HASH
//	envctl-hmac$key=KEYID$SALT$HASH
//
// SALT is 16 random bytes per value, HASH 32 bytes, both unpadded base64.
// The parameters travel with each digest, so a later envctl that raises
// them still compares older snapshots.
const (
	scryptScheme = "envctl-scrypt"
	hmacScheme   = "envctl-hmac"
)

// scrypt parameters: N=2^15, r=8, p=1 (32 MiB, ~0.1 s a value on the 2-vCPU
// machine this was measured on) are x/crypto's recommendation for
// interactive logins: each guess at a value costs an attacker that much.
const (
	scryptLogN = 15
	scryptR    = 8
	scryptP    = 1
	// scryptMaxMemory bounds what a digest read from a file may ask for
	// (scrypt takes 128·r·N bytes): a crafted snapshot must not make diff
	// allocate gigabytes. Four times today's parameters.
	scryptMaxMemory = 128 << 20
)

// hmacKeyMin is the shortest ENVCTL_SNAPSHOT_KEY accepted: with the key
// outside the file the digest is only as strong as the key.
const hmacKeyMin = 16

// Hasher turns Secret values into digests for a snapshot, and checks
// rendered values against a snapshot's digests.
type Hasher struct {
	// Key, when set (ENVCTL_SNAPSHOT_KEY), makes new digests HMAC-SHA256
	// under it; without it they are scrypt. Checking an HMAC digest needs
	// the same key.
	Key []byte
}

// CheckKey refuses a key too short to protect anything.
func (h Hasher) CheckKey() error {
	if h.Key != nil && len(h.Key) < hmacKeyMin {
		return fmt.Errorf("ENVCTL_SNAPSHOT_KEY is %d bytes; use at least %d random bytes (e.g. openssl rand -base64 32)", len(h.Key), hmacKeyMin)
	}
	return nil
}

// Scheme names the digests Digest writes, for the snapshot header.
func (h Hasher) Scheme() string {
	if h.Key != nil {
		return "hmac-sha256 key " + h.keyID()
	}
	return fmt.Sprintf("scrypt ln=%d,r=%d,p=%d", scryptLogN, scryptR, scryptP)
}

// keyID names a key without revealing it, so that a diff with another
// key is told so rather than reporting every value as changed.
func (h Hasher) keyID() string {
	m := hmac.New(sha256.New, h.Key)
	m.Write([]byte("envctl snapshot key id"))
	return hex.EncodeToString(m.Sum(nil)[:6])
}

// Digest returns the digest of value with a fresh random salt.
func (h Hasher) Digest(value string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if h.Key != nil {
		return format(hmacScheme, "key="+h.keyID(), salt, h.mac(salt, value)), nil
	}
	sum, err := scrypt.Key([]byte(value), salt, 1<<scryptLogN, scryptR, scryptP, 32)
	if err != nil {
		return "", err
	}
	return format(scryptScheme, fmt.Sprintf("ln=%d,r=%d,p=%d", scryptLogN, scryptR, scryptP), salt, sum), nil
}

func (h Hasher) mac(salt []byte, value string) []byte {
	m := hmac.New(sha256.New, h.Key)
	m.Write(salt)
	m.Write([]byte(value))
	return m.Sum(nil)
}

func format(scheme, params string, salt, sum []byte) string {
	enc := base64.RawStdEncoding
	return scheme + "$" + params + "$" + enc.EncodeToString(salt) + "$" + enc.EncodeToString(sum)
}

// digest is a parsed digest.
type digest struct {
	scheme  string
	logN    int
	r, p    int
	keyID   string
	salt    []byte
	sum     []byte
	literal string
}

// errNotDigest is a value that is not a digest: a hand-written or
// kubectl-dumped snapshot's plain value, compared as it is.
var errNotDigest = errors.New("not a digest")

// LegacyDigestError is a value digested by the format-1 scheme.
type LegacyDigestError struct{}

func (LegacyDigestError) Error() string {
	return "holds format-1 Secret digests (one salted SHA-256 per file, which anyone holding the file can brute-force); envctl no longer compares them: take the snapshot again with this envctl"
}

// parseDigest reads a digest; errNotDigest for a plain value, another
// error for a digest it cannot use.
func parseDigest(s string) (*digest, error) {
	if strings.HasPrefix(s, legacyDigestPrefix) {
		return nil, LegacyDigestError{}
	}
	scheme, rest, ok := strings.Cut(s, "$")
	if !ok || (scheme != scryptScheme && scheme != hmacScheme) {
		return nil, errNotDigest
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed %s digest", scheme)
	}
	d := &digest{scheme: scheme, literal: s}
	var err error
	if d.salt, err = base64.RawStdEncoding.DecodeString(parts[1]); err != nil || len(d.salt) < 8 {
		return nil, fmt.Errorf("malformed %s digest: bad salt", scheme)
	}
	if d.sum, err = base64.RawStdEncoding.DecodeString(parts[2]); err != nil || len(d.sum) != 32 {
		return nil, fmt.Errorf("malformed %s digest: bad hash", scheme)
	}
	if scheme == hmacScheme {
		id, ok := strings.CutPrefix(parts[0], "key=")
		if !ok || id == "" {
			return nil, fmt.Errorf("malformed %s digest: no key id", scheme)
		}
		d.keyID = id
		return d, nil
	}
	for _, kv := range strings.Split(parts[0], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fmt.Errorf("malformed %s digest: %q", scheme, kv)
		}
		switch k {
		case "ln":
			d.logN = n
		case "r":
			d.r = n
		case "p":
			d.p = n
		default:
			return nil, fmt.Errorf("malformed %s digest: unknown parameter %q", scheme, k)
		}
	}
	// The bounds keep a crafted file from costing more than 128 MiB and
	// a second or so per value.
	if d.logN < 10 || d.logN > 24 || d.r < 1 || d.r > 32 || d.p < 1 || d.p > 4 || 128*d.r<<d.logN > scryptMaxMemory {
		return nil, fmt.Errorf("%s digest: parameters ln=%d,r=%d,p=%d out of the accepted range", scheme, d.logN, d.r, d.p)
	}
	return d, nil
}

// KeyError is an HMAC digest that cannot be checked with the key at hand.
type KeyError struct {
	// Want is the id of the key the snapshot was taken with; Have the
	// id of ENVCTL_SNAPSHOT_KEY, "" when it is not set.
	Want, Have string
}

func (e *KeyError) Error() string {
	if e.Have == "" {
		return fmt.Sprintf("its Secret digests are HMACs under key %s: set ENVCTL_SNAPSHOT_KEY to the key the snapshot was taken with", e.Want)
	}
	return fmt.Sprintf("its Secret digests are HMACs under key %s, but ENVCTL_SNAPSHOT_KEY is key %s", e.Want, e.Have)
}

// checkKeyID says whether h holds the key that id names.
func (h Hasher) checkKeyID(id string) error {
	if h.Key == nil {
		return &KeyError{Want: id}
	}
	if have := h.keyID(); have != id {
		return &KeyError{Want: id, Have: have}
	}
	return nil
}

// matches reports whether value is the one d was made from.
func (h Hasher) matches(d *digest, value string) (bool, error) {
	var sum []byte
	switch d.scheme {
	case hmacScheme:
		if err := h.checkKeyID(d.keyID); err != nil {
			return false, err
		}
		sum = h.mac(d.salt, value)
	default:
		var err error
		if sum, err = scrypt.Key([]byte(value), d.salt, 1<<d.logN, d.r, d.p, 32); err != nil {
			return false, err
		}
	}
	return subtle.ConstantTimeCompare(sum, d.sum) == 1, nil
}

// parallel runs n jobs, as many at a time as there are CPUs: each scrypt
// call is CPU-bound and takes 32 MiB, so more would only cost memory.
func parallel(n int, job func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error { return job(i) })
	}
	return g.Wait()
}
