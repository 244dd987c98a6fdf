package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// SopsVersion is the sops release whose file format envctl reads and
// writes; files envctl writes carry it, so the sops CLI accepts them.
const SopsVersion = "3.13.2"

// DefaultUnencryptedSuffix is sops' default: values under a key ending in
// it are left in plaintext (and are still covered by the MAC).
const DefaultUnencryptedSuffix = "_unencrypted"

// macOnlyEncryptedInit starts the MAC of a file written with
// mac_only_encrypted, as sops does, so such a MAC never equals the other.
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0xb, 0xb, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// File is a parsed SOPS file, still encrypted.
type File struct {
	Path   string
	Format Format
	tree   *node // without the sops metadata
	meta   metadata
	// rawMeta is the metadata as the file holds it (for dotenv, its
	// sops_* lines in file order), and indent the file's indentation:
	// an update writes both back as they were, so that its diff is the
	// values it changed and the MAC.
	rawMeta *node
	indent  string
}

type metadata struct {
	age          []ageKey
	groups       int      // key groups (sops' Shamir secret sharing)
	other        []string // key types other than age: pgp, kms, ...
	lastModified string
	mac          string
	version      string
	rules        rules
}

type ageKey struct{ recipient, enc string }

// rules say which values sops encrypted (the *_suffix and *_regex
// settings of a creation rule).
type rules struct {
	unencryptedSuffix, encryptedSuffix string
	unencryptedRegex, encryptedRegex   *regexp.Regexp
	macOnlyEncrypted                   bool
}

func (r rules) encrypted(path []string) bool {
	enc := true
	if r.unencryptedSuffix != "" {
		for _, p := range path {
			if strings.HasSuffix(p, r.unencryptedSuffix) {
				enc = false
				break
			}
		}
	}
	if r.encryptedSuffix != "" {
		enc = false
		for _, p := range path {
			if strings.HasSuffix(p, r.encryptedSuffix) {
				enc = true
				break
			}
		}
	}
	if r.unencryptedRegex != nil {
		for _, p := range path {
			if r.unencryptedRegex.MatchString(p) {
				enc = false
				break
			}
		}
	}
	if r.encryptedRegex != nil {
		enc = false
		for _, p := range path {
			if r.encryptedRegex.MatchString(p) {
				enc = true
				break
			}
		}
	}
	return enc
}

// IsEncrypted reports, cheaply, whether b looks like a SOPS file of the
// format its path gives: a top-level "sops" map (YAML, JSON, binary) or
// sops_mac and sops_lastmodified lines (dotenv), or any value sops
// encrypted. The last one matters: a file cut short before its metadata
// must fail as a damaged SOPS file, not render its ciphertext as values.
// A file that only looks like one fails in Parse with a message naming it.
func IsEncrypted(path string, b []byte) bool {
	if bytes.Contains(b, []byte("ENC[AES256_GCM,")) {
		return true
	}
	if !bytes.Contains(b, []byte("sops")) || !bytes.Contains(b, []byte("mac")) {
		return false
	}
	switch FormatOf(path) {
	case FormatDotenv:
		return dotenvLine(b, "sops_mac=") && dotenvLine(b, "sops_lastmodified=")
	case FormatYAML:
		return bytes.HasPrefix(b, []byte("sops:")) || bytes.Contains(b, []byte("\nsops:"))
	default:
		return bytes.Contains(b, []byte(`"sops"`)) && bytes.Contains(b, []byte(`"mac"`))
	}
}

func dotenvLine(b []byte, prefix string) bool {
	return bytes.HasPrefix(b, []byte(prefix)) || bytes.Contains(b, []byte("\n"+prefix))
}

// Parse reads a SOPS file. A file that is not one, or whose metadata is
// damaged (a truncated file), is a *FileError naming it.
func Parse(path string, b []byte) (*File, error) {
	f := &File{Path: path, Format: FormatOf(path)}
	t, err := parseTree(f.Format, b)
	if err != nil {
		return nil, &FileError{File: path, Problem: "not a valid SOPS file: " + err.Error()}
	}
	var meta *node
	f.indent = indentOf(f.Format, b)
	if f.Format == FormatDotenv {
		f.rawMeta = &node{kind: mapNode}
		for i, k := range t.keys {
			if t.items[i].kind != commentNode && strings.HasPrefix(k, "sops_") {
				f.rawMeta.keys = append(f.rawMeta.keys, k)
				f.rawMeta.items = append(f.rawMeta.items, t.items[i])
			}
		}
		meta, err = unflattenDotenv(t)
		if err != nil {
			return nil, &FileError{File: path, Problem: err.Error()}
		}
	} else {
		meta = t.get("sops")
		t.remove("sops")
		f.rawMeta = meta
	}
	if meta == nil || meta.kind != mapNode {
		return nil, &FileError{File: path, Problem: "not a SOPS file (no sops metadata)"}
	}
	if f.meta, err = readMetadata(meta); err != nil {
		return nil, &FileError{File: path, Problem: "damaged SOPS metadata (a truncated file?): " + err.Error()}
	}
	f.tree = t
	if f.Format == FormatBinary && (t.get("data") == nil || t.get("data").kind != scalarNode) {
		return nil, &FileError{File: path, Problem: `not a valid SOPS file: a binary SOPS file holds one "data" value`}
	}
	return f, nil
}

// unflattenDotenv takes the sops_* lines out of a dotenv tree and rebuilds
// the metadata map they flatten (sops_age__list_0__map_recipient=...).
func unflattenDotenv(t *node) (*node, error) {
	meta := &node{kind: mapNode}
	var keys []string
	var items []*node
	found := false
	for i, k := range t.keys {
		it := t.items[i]
		if it.kind == commentNode || !strings.HasPrefix(k, "sops_") {
			keys, items = append(keys, k), append(items, it)
			continue
		}
		found = true
		if err := unflattenInto(meta, strings.TrimPrefix(k, "sops_"), it); err != nil {
			return nil, fmt.Errorf("SOPS metadata line %s: %v", k, err)
		}
	}
	t.keys, t.items = keys, items
	if !found {
		return nil, nil
	}
	return meta, nil
}

func unflattenInto(cur *node, path string, leaf *node) error {
	const mapSep, listSep = "__map_", "__list_"
	head, rest := path, ""
	if i := indexSep(path); i >= 0 {
		head, rest = path[:i], path[i:]
	}
	// cur is a map here; head is its key.
	for {
		if rest == "" {
			cur.set(head, leaf)
			return nil
		}
		var next *node
		isList := strings.HasPrefix(rest, listSep)
		if isList {
			next = cur.get(head)
			if next == nil {
				next = &node{kind: listNode}
				cur.set(head, next)
			}
			rest = rest[len(listSep):]
			j := indexSep(rest)
			num := rest
			if j >= 0 {
				num, rest = rest[:j], rest[j:]
			} else {
				rest = ""
			}
			idx, err := strconv.Atoi(num)
			if err != nil || idx < 0 || idx > 1000 {
				return errors.New("bad list index")
			}
			for len(next.items) <= idx {
				next.items = append(next.items, &node{kind: mapNode})
			}
			if rest == "" {
				next.items[idx] = leaf
				return nil
			}
			if !strings.HasPrefix(rest, mapSep) {
				return errors.New("nested lists are not supported")
			}
			cur = next.items[idx]
			rest = rest[len(mapSep):]
		} else {
			next = cur.get(head)
			if next == nil {
				next = &node{kind: mapNode}
				cur.set(head, next)
			}
			cur = next
			rest = rest[len(mapSep):]
		}
		head = rest
		if i := indexSep(rest); i >= 0 {
			head, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		if cur.kind != mapNode {
			return errors.New("inconsistent metadata")
		}
	}
}

func indexSep(s string) int {
	i, j := strings.Index(s, "__map_"), strings.Index(s, "__list_")
	switch {
	case i < 0:
		return j
	case j < 0:
		return i
	}
	return min(i, j)
}

var otherKeyTypes = []string{"pgp", "kms", "gcp_kms", "azure_kv", "hc_vault", "hckms"}

func readMetadata(m *node) (metadata, error) {
	var md metadata
	md.lastModified = m.get("lastmodified").text()
	md.mac = m.get("mac").text()
	md.version = m.get("version").text()
	if md.lastModified == "" {
		return md, errors.New("no lastmodified")
	}
	if md.mac == "" {
		return md, errors.New("no mac")
	}
	readKeys := func(g *node) error {
		for _, t := range otherKeyTypes {
			if l := g.get(t); l != nil && l.kind == listNode && len(l.items) > 0 {
				md.other = append(md.other, t)
			}
		}
		if l := g.get("age"); l != nil && l.kind == listNode {
			for _, it := range l.items {
				k := ageKey{recipient: it.get("recipient").text(), enc: it.get("enc").text()}
				if k.enc == "" {
					return errors.New("an age key has no enc")
				}
				md.age = append(md.age, k)
			}
		}
		return nil
	}
	if err := readKeys(m); err != nil {
		return md, err
	}
	if g := m.get("key_groups"); g != nil && g.kind == listNode {
		md.groups = len(g.items)
		for _, it := range g.items {
			if err := readKeys(it); err != nil {
				return md, err
			}
		}
	}
	md.rules.unencryptedSuffix = m.get("unencrypted_suffix").text()
	md.rules.encryptedSuffix = m.get("encrypted_suffix").text()
	for _, re := range []struct {
		key string
		dst **regexp.Regexp
	}{{"unencrypted_regex", &md.rules.unencryptedRegex}, {"encrypted_regex", &md.rules.encryptedRegex}} {
		if s := m.get(re.key).text(); s != "" {
			r, err := regexp.Compile(s)
			if err != nil {
				return md, fmt.Errorf("%s does not compile", re.key)
			}
			*re.dst = r
		}
	}
	for _, k := range []string{"unencrypted_comment_regex", "encrypted_comment_regex"} {
		if m.get(k).text() != "" {
			return md, fmt.Errorf("%s is not supported by envctl", k)
		}
	}
	if v := m.get("mac_only_encrypted"); v != nil {
		md.rules.macOnlyEncrypted = v.value == "true" || v.value == "True"
	}
	return md, nil
}

// Recipients are the age recipients the file's data key is encrypted for.
func (f *File) Recipients() []string {
	var out []string
	for _, k := range f.meta.age {
		out = append(out, k.recipient)
	}
	return out
}

// OtherKeyTypes are the sops key types other than age the file lists.
func (f *File) OtherKeyTypes() []string { return f.meta.other }

// dataKey decrypts the file's 32-byte data key with the first identity
// that is one of its recipients.
func (f *File) dataKey(k *Keyring) ([]byte, error) {
	if f.meta.groups > 1 {
		return nil, &FileError{File: f.Path, Problem: fmt.Sprintf("uses %d sops key groups (Shamir secret sharing), which envctl does not decrypt", f.meta.groups)}
	}
	if len(f.meta.age) == 0 {
		types := strings.Join(f.meta.other, ", ")
		if types == "" {
			types = "none"
		}
		return nil, &FileError{File: f.Path, Problem: fmt.Sprintf("is encrypted with no age recipient (key types: %s); envctl decrypts age only", types)}
	}
	if k == nil || len(k.ids) == 0 {
		return nil, &NoKeyError{File: f.Path, Recipients: f.Recipients(), Other: f.meta.other, Searched: k.searched()}
	}
	for _, a := range f.meta.age {
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(a.enc)), k.ids...)
		if err != nil {
			var nm *age.NoIdentityMatchError
			if errors.As(err, &nm) {
				continue
			}
			return nil, &FileError{File: f.Path, Problem: fmt.Sprintf("the data key for %s does not decrypt (%v)", a.recipient, err)}
		}
		key, err := io.ReadAll(io.LimitReader(r, 64))
		if err != nil || len(key) != 32 {
			return nil, &FileError{File: f.Path, Problem: fmt.Sprintf("the data key for %s is damaged", a.recipient)}
		}
		return key, nil
	}
	return nil, &NoKeyError{File: f.Path, Recipients: f.Recipients(), Other: f.meta.other, Searched: k.searched()}
}

// Decrypt returns the plaintext of the file in its own format (for
// binary, the data itself), after checking its MAC. The plaintext lives
// only in the returned slice.
func (f *File) Decrypt(k *Keyring) ([]byte, error) {
	t, err := f.decryptTree(k)
	if err != nil {
		return nil, err
	}
	return emit(f.Format, t)
}

func (f *File) decryptTree(k *Keyring) (*node, error) {
	key, err := f.dataKey(k)
	if err != nil {
		return nil, err
	}
	t, mac, err := walk(f.tree, f.meta.rules, func(n *node, path []string) (*node, error) {
		if n.kind == commentNode && !strings.HasPrefix(n.value, "ENC[") {
			return n, nil // older sops left comments in plaintext; so does sops reading them
		}
		return decryptValue(n.value, key, aad(path))
	})
	if err != nil {
		return nil, &FileError{File: f.Path, Problem: err.Error()}
	}
	want, err := decryptValue(f.meta.mac, key, macAAD(f.meta.lastModified))
	if err != nil || subtle.ConstantTimeCompare([]byte(want.value), []byte(mac)) != 1 {
		return nil, &FileError{File: f.Path, Problem: "MAC mismatch: the file was changed after it was encrypted (tampered with, or edited by hand), so none of it is used"}
	}
	return t, nil
}

// Placeholders returns the file in its format with every encrypted value
// replaced by a placeholder naming its key, for renders without keys.
func (f *File) Placeholders() ([]byte, error) {
	t, _, err := walk(f.tree, f.meta.rules, func(n *node, path []string) (*node, error) {
		if n.kind == commentNode {
			return &node{kind: commentNode, typ: "comment"}, nil
		}
		return str(Placeholder), nil
	})
	if err != nil {
		return nil, &FileError{File: f.Path, Problem: err.Error()}
	}
	return emit(f.Format, t)
}

// Placeholder is the value every encrypted value has with --no-decrypt.
const Placeholder = "envctl-no-decrypt"

func aad(path []string) string { return strings.Join(path, ":") + ":" }

func macAAD(lastModified string) string {
	t, err := time.Parse(time.RFC3339, lastModified)
	if err != nil {
		return lastModified
	}
	return t.Format(time.RFC3339)
}

// walk copies the tree, passing each value sops encrypts (by the rules)
// to fn, and computes the MAC over the values of the result, as sops does:
// SHA-512 over each non-null, non-comment value in file order.
func walk(t *node, r rules, fn func(n *node, path []string) (*node, error)) (*node, string, error) {
	h := sha512.New()
	if r.macOnlyEncrypted {
		h.Write(macOnlyEncryptedInit)
	}
	var rec func(n *node, path []string) (*node, error)
	rec = func(n *node, path []string) (*node, error) {
		switch n.kind {
		case mapNode:
			out := &node{kind: mapNode, keys: append([]string(nil), n.keys...)}
			for i, k := range n.keys {
				p := path
				if n.items[i].kind != commentNode {
					p = append(path[:len(path):len(path)], k)
				}
				v, err := rec(n.items[i], p)
				if err != nil {
					return nil, err
				}
				out.items = append(out.items, v)
			}
			return out, nil
		case listNode:
			out := &node{kind: listNode}
			for _, it := range n.items {
				v, err := rec(it, path)
				if err != nil {
					return nil, err
				}
				out.items = append(out.items, v)
			}
			return out, nil
		}
		if n.typ == "null" {
			return n, nil
		}
		enc := r.encrypted(path)
		v := n
		if enc {
			var err error
			if v, err = fn(n, path); err != nil {
				if len(path) == 0 {
					return nil, fmt.Errorf("a comment: %v", err)
				}
				return nil, fmt.Errorf("key %q: %v", strings.Join(path, "."), err)
			}
			if n.inline && v.kind == commentNode && !v.inline {
				c := *v
				c.inline = true // a YAML comment on its value's line stays there
				v = &c
			}
		}
		if v.kind != commentNode && (!r.macOnlyEncrypted || enc) {
			h.Write(macBytes(v))
		}
		return v, nil
	}
	out, err := rec(t, nil)
	if err != nil {
		return nil, "", err
	}
	return out, fmt.Sprintf("%X", h.Sum(nil)), nil
}

func macBytes(n *node) []byte {
	if n.typ == "bool" {
		if n.value == "true" {
			return []byte("True")
		}
		return []byte("False")
	}
	return []byte(n.value)
}

var encRE = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)

// decryptValue opens one ENC[AES256_GCM,...] value. The error never
// quotes the value.
func decryptValue(v string, key []byte, aad string) (*node, error) {
	if v == "" {
		return str(""), nil // sops leaves empty values as they are
	}
	m := encRE.FindStringSubmatch(v)
	if m == nil {
		return nil, errors.New("the value is not encrypted (plaintext in a SOPS file: a value added by hand, or the file was tampered with)")
	}
	data, err1 := base64.StdEncoding.DecodeString(m[1])
	iv, err2 := base64.StdEncoding.DecodeString(m[2])
	tag, err3 := base64.StdEncoding.DecodeString(m[3])
	if err1 != nil || err2 != nil || err3 != nil || len(iv) == 0 || len(tag) != 16 {
		return nil, errors.New("the encrypted value is damaged")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, iv, append(data, tag...), []byte(aad))
	if err != nil {
		return nil, errors.New("the value does not decrypt with the file's data key (tampered with, or moved from another key or file)")
	}
	s := string(plain)
	switch typ := m[4]; typ {
	case "str", "bytes":
		return str(s), nil
	case "comment":
		return &node{kind: commentNode, typ: "comment", value: s}, nil
	case "int":
		i, err := strconv.Atoi(s)
		if err != nil {
			return nil, errors.New("an int value that is not one")
		}
		return &node{kind: scalarNode, typ: "int", value: strconv.Itoa(i)}, nil
	case "float":
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errors.New("a float value that is not one")
		}
		return &node{kind: scalarNode, typ: "float", value: strconv.FormatFloat(x, 'f', -1, 64)}, nil
	case "bool":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, errors.New("a bool value that is not one")
		}
		return &node{kind: scalarNode, typ: "bool", value: strconv.FormatBool(b)}, nil
	case "time":
		var t time.Time
		if t.UnmarshalText(plain) != nil {
			return nil, errors.New("a time value that is not one")
		}
		b, _ := t.MarshalText()
		return &node{kind: scalarNode, typ: "time", value: string(b)}, nil
	default:
		return nil, fmt.Errorf("unknown value type %q", typ)
	}
}

// encryptValue seals one value as sops does, with a fresh 32-byte IV.
func encryptValue(n *node, key []byte, aad string) (string, error) {
	if n.value == "" && (n.typ == "str" || n.typ == "comment") {
		return "", nil
	}
	plain := n.value
	typ := n.typ
	switch typ {
	case "bool":
		plain = string(macBytes(n))
	case "str", "int", "float", "time", "comment":
	default:
		typ = "str"
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, 32)
	if err != nil {
		return "", err
	}
	iv := make([]byte, 32)
	if _, err := rand.Read(iv); err != nil {
		return "", err
	}
	out := gcm.Seal(nil, iv, []byte(plain), []byte(aad))
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:%s]",
		base64.StdEncoding.EncodeToString(out[:len(out)-16]),
		base64.StdEncoding.EncodeToString(iv),
		base64.StdEncoding.EncodeToString(out[len(out)-16:]), typ), nil
}

// EncryptOptions say how to encrypt a file.
type EncryptOptions struct {
	// Recipients are age public keys (age1...) or SSH public keys.
	Recipients []string
	// UnencryptedSuffix defaults to sops' "_unencrypted".
	UnencryptedSuffix string
	// EncryptedRegex, when set, limits encryption to matching keys (as
	// sops' encrypted_regex).
	EncryptedRegex string
	// now is the lastmodified time; zero means now.
	now time.Time
}

// Encrypt encrypts plaintext (a file in the format path names) for the
// recipients, with a fresh data key, as the sops CLI would.
func Encrypt(path string, plaintext []byte, opts EncryptOptions) ([]byte, error) {
	format := FormatOf(path)
	t, err := plainTree(format, plaintext)
	if err != nil {
		return nil, &FileError{File: path, Problem: err.Error()}
	}
	if format != FormatDotenv && t.get("sops") != nil {
		return nil, &FileError{File: path, Problem: "is already encrypted with SOPS"}
	}
	if format == FormatDotenv {
		for _, k := range t.keys {
			if strings.HasPrefix(k, "sops_") {
				return nil, &FileError{File: path, Problem: "is already encrypted with SOPS (or has a sops_ key, which sops reserves)"}
			}
		}
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return seal(path, format, t, key, opts, nil)
}

// seal encrypts tree t with data key key. reuse maps "path\x00type\x00value"
// to an existing ENC string to keep for an unchanged value, so that an
// edit changes only the lines it touched.
func seal(path string, format Format, t *node, key []byte, opts EncryptOptions, reuse map[string]string) ([]byte, error) {
	if len(opts.Recipients) == 0 {
		return nil, &FileError{File: path, Problem: "no age recipients to encrypt for"}
	}
	r := rules{unencryptedSuffix: opts.UnencryptedSuffix}
	if r.unencryptedSuffix == "" && opts.EncryptedRegex == "" {
		r.unencryptedSuffix = DefaultUnencryptedSuffix
	}
	if opts.EncryptedRegex != "" {
		re, err := regexp.Compile(opts.EncryptedRegex)
		if err != nil {
			return nil, fmt.Errorf("encrypted_regex does not compile: %v", err)
		}
		r.encryptedRegex = re
		r.unencryptedSuffix = ""
	}
	// The MAC is over the plaintext, so walk once to compute it and
	// encrypt in the same pass: the walk's MAC sees what fn returns,
	// which for encryption must be the plaintext; so compute it first.
	_, mac, err := walk(t, r, func(n *node, _ []string) (*node, error) { return n, nil })
	if err != nil {
		return nil, err
	}
	enc, _, err := walk(t, r, func(n *node, p []string) (*node, error) {
		if old, ok := reuse[reuseKey(p, n)]; ok {
			return &node{kind: n.kind, typ: "str", value: old}, nil
		}
		s, err := encryptValue(n, key, aad(p))
		if err != nil {
			return nil, err
		}
		if n.kind == commentNode {
			return &node{kind: commentNode, typ: "comment", value: s}, nil
		}
		return str(s), nil
	})
	if err != nil {
		return nil, &FileError{File: path, Problem: err.Error()}
	}
	now := opts.now
	if now.IsZero() {
		now = time.Now()
	}
	lm := now.UTC().Format(time.RFC3339)
	encMAC, err := encryptValue(str(mac), key, lm)
	if err != nil {
		return nil, err
	}
	ageList := &node{kind: listNode}
	for _, rcp := range opts.Recipients {
		rc, err := ParseRecipient(rcp)
		if err != nil {
			return nil, &FileError{File: path, Problem: err.Error()}
		}
		var b bytes.Buffer
		aw := armor.NewWriter(&b)
		w, err := age.Encrypt(aw, rc)
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(key); err != nil {
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
		if err := aw.Close(); err != nil {
			return nil, err
		}
		ageList.items = append(ageList.items, &node{kind: mapNode, keys: []string{"recipient", "enc"}, items: []*node{str(rcp), str(b.String())}})
	}
	meta := &node{kind: mapNode}
	meta.set("age", ageList)
	meta.set("lastmodified", str(lm))
	meta.set("mac", str(encMAC))
	if r.unencryptedSuffix != "" {
		meta.set("unencrypted_suffix", str(r.unencryptedSuffix))
	}
	if opts.EncryptedRegex != "" {
		meta.set("encrypted_regex", str(opts.EncryptedRegex))
	}
	meta.set("version", str(SopsVersion))
	if format == FormatDotenv {
		flattenInto(enc, "sops_", meta)
	} else {
		enc.set("sops", meta)
	}
	if format == FormatBinary {
		return emit(FormatJSON, enc)
	}
	return emit(format, enc)
}

func reuseKey(path []string, n *node) string {
	return strings.Join(path, "\x00") + "\x01" + n.typ + "\x01" + n.value
}

// flattenInto appends the metadata as sops' dotenv store writes it:
// sops_age__list_0__map_recipient=...
func flattenInto(t *node, prefix string, m *node) {
	switch m.kind {
	case mapNode:
		keys := append([]string(nil), m.keys...)
		sort.Strings(keys)
		for _, k := range keys {
			p := prefix + k
			if prefix != "sops_" {
				p = prefix + "__map_" + k
			}
			flattenInto(t, p, m.get(k))
		}
	case listNode:
		for i, it := range m.items {
			flattenInto(t, prefix+"__list_"+strconv.Itoa(i), it)
		}
	default:
		t.keys = append(t.keys, prefix)
		t.items = append(t.items, m)
	}
}

// ParseRecipient reads an age public key (age1..., age1pq1...) or an SSH
// public key (ssh-ed25519, ssh-rsa).
func ParseRecipient(s string) (age.Recipient, error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "age1pq1"):
		r, err := age.ParseHybridRecipient(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %s: not an age public key", s)
		}
		return r, nil
	case strings.HasPrefix(s, "age1"):
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return nil, fmt.Errorf("recipient %s: not an age public key", s)
		}
		return r, nil
	case strings.HasPrefix(s, "ssh-"):
		return parseSSHRecipient(s)
	}
	return nil, fmt.Errorf("recipient %q: not an age public key (age1...) or SSH public key", s)
}

// Plaintext returns a file's content decrypted with the keys sops would
// find, or b itself when it is not a SOPS file: for tools that copy a
// repository's secret sources out in the clear (benchmarks, tests).
func Plaintext(path string, b []byte) ([]byte, error) {
	if !IsEncrypted(path, b) {
		return b, nil
	}
	k, err := LoadKeys()
	if err != nil {
		return nil, err
	}
	f, err := Parse(path, b)
	if err != nil {
		return nil, err
	}
	return f.Decrypt(k)
}

// KindEncrypted says whether the file's top-level apiVersion or kind is
// encrypted: a Kubernetes manifest encrypted whole, which has no kind
// without its key.
func (f *File) KindEncrypted() bool {
	for _, k := range []string{"apiVersion", "kind"} {
		if n := f.tree.get(k); n != nil && n.kind == scalarNode && f.meta.rules.encrypted([]string{k}) {
			return true
		}
	}
	return false
}
