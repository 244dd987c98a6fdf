package secrets

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"filippo.io/age"
	"filippo.io/age/agessh"
)

// The environment variables sops reads its age keys from; envctl reads
// the same ones, in the same way, so a machine set up for sops (or Flux's
// CLI) decrypts with envctl as it is.
const (
	EnvAgeKey              = "SOPS_AGE_KEY"      // identities, inline
	EnvAgeKeyFile          = "SOPS_AGE_KEY_FILE" // a file of identities
	EnvAgeKeyCmd           = "SOPS_AGE_KEY_CMD"  // a command printing identities
	EnvAgeSSHKeyFile       = "SOPS_AGE_SSH_PRIVATE_KEY_FILE"
	envAgeRecipient        = "SOPS_AGE_RECIPIENT" // set for SOPS_AGE_KEY_CMD
	userKeysPath           = "sops/age/keys.txt"  // under the user config directory
	maxKeyFileSize   int64 = 1 << 20
)

// Keyring holds the age identities found where sops looks for them.
type Keyring struct {
	ids []age.Identity
	// sources name where identities were found or looked for, for
	// messages ("SOPS_AGE_KEY_FILE=/k.txt (1 key)").
	sources []string
	// Warnings are problems that did not stop loading: a key file others
	// can read (as ssh warns).
	Warnings []string
}

func (k *Keyring) searched() []string {
	if k == nil {
		return nil
	}
	return k.sources
}

// Len is the number of identities.
func (k *Keyring) Len() int { return len(k.ids) }

// NewKeyring holds the given identity strings (AGE-SECRET-KEY-1...), for
// tests and for callers that found keys elsewhere.
func NewKeyring(identities ...string) (*Keyring, error) {
	k := &Keyring{}
	if err := k.addText("identities", []byte(strings.Join(identities, "\n")), true); err != nil {
		return nil, err
	}
	return k, nil
}

var (
	loadOnce  sync.Once
	loaded    *Keyring
	loadedErr error
)

// LoadKeys finds the age identities as sops does, once per process (a
// SOPS_AGE_KEY_CMD runs once): SOPS_AGE_KEY, SOPS_AGE_KEY_FILE,
// SOPS_AGE_KEY_CMD, <user config dir>/sops/age/keys.txt, and SSH keys from
// SOPS_AGE_SSH_PRIVATE_KEY_FILE or ~/.ssh/id_ed25519. Every source found
// is used; none found is not an error here (decrypting then fails naming
// the file and its recipients). A source that is set but unusable is an
// error naming it.
func LoadKeys() (*Keyring, error) {
	loadOnce.Do(func() { loaded, loadedErr = loadKeys() })
	return loaded, loadedErr
}

func loadKeys() (*Keyring, error) {
	k := &Keyring{}
	if v := os.Getenv(EnvAgeKey); strings.TrimSpace(v) != "" {
		if err := k.addText(EnvAgeKey, []byte(v), true); err != nil {
			return nil, err
		}
	}
	if p, ok := os.LookupEnv(EnvAgeKeyFile); ok && p != "" {
		if err := k.addFile(EnvAgeKeyFile+"="+p, p, true); err != nil {
			return nil, err
		}
	}
	if c, ok := os.LookupEnv(EnvAgeKeyCmd); ok && c != "" {
		out, err := runKeyCmd(c)
		if err != nil {
			return nil, err
		}
		if err := k.addText(EnvAgeKeyCmd, out, false); err != nil {
			return nil, err
		}
	}
	if dir, err := userConfigDir(); err == nil && dir != "" {
		p := filepath.Join(dir, filepath.FromSlash(userKeysPath))
		if err := k.addFile(p, p, false); err != nil {
			return nil, err
		}
	}
	if p, ok := os.LookupEnv(EnvAgeSSHKeyFile); ok && p != "" {
		if err := k.addSSH(EnvAgeSSHKeyFile+"="+p, p, true); err != nil {
			return nil, err
		}
	} else if home, err := os.UserHomeDir(); err == nil && home != "" {
		p := filepath.Join(home, ".ssh", "id_ed25519")
		if err := k.addSSH(p, p, false); err != nil {
			// An SSH key that age cannot use (a passphrase) is no reason
			// to fail a render that may not need it: sops skips it too.
			k.Warnings = append(k.Warnings, err.Error())
		}
	}
	return k, nil
}

// userConfigDir is where sops looks for keys.txt: $XDG_CONFIG_HOME, else
// ~/.config on Linux (os.UserConfigDir).
func userConfigDir() (string, error) {
	if d := os.Getenv("XDG_CONFIG_HOME"); d != "" {
		return d, nil
	}
	return os.UserConfigDir()
}

func runKeyCmd(c string) ([]byte, error) {
	args, err := splitCommand(c)
	if err != nil || len(args) == 0 {
		return nil, fmt.Errorf("%s: cannot parse the command", EnvAgeKeyCmd)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), envAgeRecipient+"=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %s failed: %v", EnvAgeKeyCmd, args[0], err)
	}
	return out, nil
}

// splitCommand splits a command line as a shell would for simple cases:
// words, single and double quotes, backslash escapes.
func splitCommand(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in := false
	var quote rune
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune(r)
			esc = false
		case r == '\\' && quote != '\'':
			esc = true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 || esc {
		return nil, errors.New("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// addFile reads identities from a file; a missing file is an error only
// when required (named by a variable).
func (k *Keyring) addFile(name, path string, required bool) error {
	st, err := os.Stat(path)
	if err != nil {
		if !required && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%s: %v", name, errors.Unwrap(err))
	}
	if st.IsDir() || st.Size() > maxKeyFileSize {
		return fmt.Errorf("%s: not an age key file", name)
	}
	if st.Mode().Perm()&0o077 != 0 {
		k.Warnings = append(k.Warnings, fmt.Sprintf("%s: permissions %04o are too open: an age private key must be readable by its owner only (chmod 600 %s)", path, st.Mode().Perm(), path))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %v", name, errors.Unwrap(err))
	}
	return k.addText(name, b, false)
}

// addText parses identities, one a line, as age's identity files hold
// them (comments and blank lines allowed); words means several on a line
// are allowed (SOPS_AGE_KEY). An unparseable line is named by number,
// never quoted: it may be a key.
func (k *Keyring) addText(name string, b []byte, words bool) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		return fmt.Errorf("%s: a passphrase-protected key file, which envctl does not read (decrypt it to a 0600 file, or use %s)", name, EnvAgeKeyCmd)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, int(maxKeyFileSize))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		fields := []string{l}
		if words {
			fields = strings.Fields(l)
		}
		for _, f := range fields {
			id, err := parseIdentity(f)
			if err != nil {
				return fmt.Errorf("%s: line %d: %v", name, line, err)
			}
			k.ids = append(k.ids, id)
			n++
		}
	}
	k.sources = append(k.sources, fmt.Sprintf("%s (%d key%s)", name, n, plural(n)))
	return nil
}

func parseIdentity(s string) (age.Identity, error) {
	switch {
	case strings.HasPrefix(s, "AGE-PLUGIN-"):
		return nil, errors.New("an age plugin identity, which envctl does not support")
	case strings.HasPrefix(s, "AGE-SECRET-KEY-PQ-1"):
		id, err := age.ParseHybridIdentity(s)
		if err != nil {
			return nil, errors.New("not an age identity (AGE-SECRET-KEY-PQ-1...)")
		}
		return id, nil
	case strings.HasPrefix(s, "AGE-SECRET-KEY-1"):
		id, err := age.ParseX25519Identity(s)
		if err != nil {
			return nil, errors.New("not an age identity (AGE-SECRET-KEY-1...)")
		}
		return id, nil
	}
	return nil, errors.New("not an age identity (want AGE-SECRET-KEY-1..., one a line; # comments)")
}

func (k *Keyring) addSSH(name, path string, required bool) error {
	b, err := os.ReadFile(path)
	if err != nil {
		if !required && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("%s: %v", name, errors.Unwrap(err))
	}
	id, err := agessh.ParseIdentity(b)
	if err != nil {
		return fmt.Errorf("%s: not an SSH private key age can use (ed25519 or RSA, without a passphrase)", name)
	}
	k.ids = append(k.ids, id)
	k.sources = append(k.sources, name+" (SSH key)")
	return nil
}

func parseSSHRecipient(s string) (age.Recipient, error) {
	r, err := agessh.ParseRecipient(s)
	if err != nil {
		return nil, fmt.Errorf("recipient %q: not an SSH public key age can use", s)
	}
	return r, nil
}

// GenerateIdentity makes a new age X25519 key pair.
func GenerateIdentity() (identity, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", "", err
	}
	return id.String(), id.Recipient().String(), nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
