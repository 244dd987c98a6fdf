package secrets

import (
	"fmt"
	"strings"
	"time"
)

// newContentProblem starts the problem of new content that does not
// parse (edit asks whether to edit it again).
const newContentProblem = "the new content: "

// Update re-encrypts the file with next, its new plaintext (a file of the
// same format, as Decrypt returns it), and returns the new file. Only what
// changed is encrypted again, with the file's own data key: an unchanged
// value keeps its ciphertext, the recipients' stanzas and every other
// metadata line stay as they were, and the MAC and lastmodified are
// renewed. So the diff of an update in review is the lines it changed.
// When next says what the file already says, changed is false and out is
// nil: the caller leaves the file alone, lastmodified included.
func (f *File) Update(next []byte, k *Keyring) (out []byte, changed bool, err error) {
	t, err := plainTree(f.Format, next)
	if err != nil {
		return nil, false, &FileError{File: f.Path, Problem: newContentProblem + err.Error() + "; the file is unchanged"}
	}
	if f.Format == FormatDotenv {
		for _, key := range t.keys {
			if strings.HasPrefix(key, "sops_") {
				return nil, false, &FileError{File: f.Path, Problem: fmt.Sprintf("the new content has a key %s; sops reserves the sops_ prefix", key)}
			}
		}
	} else if t.get("sops") != nil {
		return nil, false, &FileError{File: f.Path, Problem: `the new content has a top-level "sops" key, which sops reserves`}
	}
	return f.updateTree(t, k, time.Now())
}

// Set sets one top-level key to a string value (the one "data" value of
// a binary file, whatever key is given) and re-encrypts as Update does.
func (f *File) Set(key, value string, k *Keyring) (out []byte, changed bool, err error) {
	t, err := f.decryptTree(k)
	if err != nil {
		return nil, false, err
	}
	switch {
	case f.Format == FormatBinary:
		key = "data"
	case f.Format == FormatDotenv && (key == "" || strings.ContainsAny(key, "=\n") || strings.HasPrefix(key, "#")):
		return nil, false, &FileError{File: f.Path, Problem: fmt.Sprintf("%q is not a key a dotenv file can hold", key)}
	case f.Format == FormatDotenv && strings.HasPrefix(key, "sops_"):
		return nil, false, &FileError{File: f.Path, Problem: fmt.Sprintf("key %s: sops reserves the sops_ prefix", key)}
	case f.Format != FormatDotenv && key == "sops":
		return nil, false, &FileError{File: f.Path, Problem: `key "sops": sops reserves it`}
	}
	if old := t.get(key); old != nil && old.kind != scalarNode {
		return nil, false, &FileError{File: f.Path, Problem: fmt.Sprintf("key %q holds a map or a list, not a value to set", key)}
	}
	t.set(key, str(value))
	return f.updateTree(t, k, time.Now())
}

// HasKey reports whether the file has the top-level key (its names are
// not encrypted, so no key is needed to tell).
func (f *File) HasKey(key string) bool {
	if f.Format == FormatBinary {
		return true
	}
	return f.tree.get(key) != nil
}

func (f *File) updateTree(next *node, k *Keyring, now time.Time) ([]byte, bool, error) {
	if f.meta.groups > 1 || len(f.meta.age) == 0 {
		_, err := f.dataKey(k) // the error that says why envctl cannot
		return nil, false, err
	}
	key, err := f.dataKey(k)
	if err != nil {
		return nil, false, err
	}
	old, err := f.decryptTree(k)
	if err != nil {
		return nil, false, err
	}
	if sameTree(old, next) {
		return nil, false, nil
	}
	// The ciphertexts of the current values, by path, type and value, in
	// file order: a list may hold the same value twice, and each keeps
	// its own ciphertext (one reused twice would tell they are equal).
	reuse := map[string][]string{}
	_, _, err = walk(f.tree, f.meta.rules, func(n *node, p []string) (*node, error) {
		v := n
		if n.kind != commentNode || strings.HasPrefix(n.value, "ENC[") {
			if v, err = decryptValue(n.value, key, aad(p)); err != nil {
				return nil, err
			}
		}
		rk := reuseKey(p, v)
		reuse[rk] = append(reuse[rk], n.value)
		return v, nil
	})
	if err != nil {
		return nil, false, &FileError{File: f.Path, Problem: err.Error()}
	}
	_, mac, err := walk(next, f.meta.rules, func(n *node, _ []string) (*node, error) { return n, nil })
	if err != nil {
		return nil, false, &FileError{File: f.Path, Problem: err.Error()}
	}
	enc, _, err := walk(next, f.meta.rules, func(n *node, p []string) (*node, error) {
		rk := reuseKey(p, n)
		if l := reuse[rk]; len(l) > 0 {
			reuse[rk] = l[1:]
			return &node{kind: n.kind, typ: "str", value: l[0]}, nil
		}
		s, err := encryptValue(n, key, aad(p))
		if err != nil {
			return nil, err
		}
		return &node{kind: n.kind, typ: "str", value: s}, nil
	})
	if err != nil {
		return nil, false, &FileError{File: f.Path, Problem: err.Error()}
	}
	lm := now.UTC().Format(time.RFC3339)
	encMAC, err := encryptValue(str(mac), key, lm)
	if err != nil {
		return nil, false, err
	}
	meta := &node{kind: mapNode, keys: append([]string(nil), f.rawMeta.keys...), items: append([]*node(nil), f.rawMeta.items...)}
	if f.Format == FormatDotenv {
		meta.set("sops_lastmodified", str(lm))
		meta.set("sops_mac", str(encMAC))
		data, err := emitDotenv(enc)
		if err != nil {
			return nil, false, &FileError{File: f.Path, Problem: err.Error()}
		}
		m, err := emitDotenv(meta)
		if err != nil {
			return nil, false, &FileError{File: f.Path, Problem: err.Error()}
		}
		return append(data, m...), true, nil
	}
	meta.set("lastmodified", str(lm))
	meta.set("mac", str(encMAC))
	enc.set("sops", meta)
	format := f.Format
	if format == FormatBinary {
		format = FormatJSON
	}
	out, err := emitIndent(format, enc, f.indent)
	if err != nil {
		return nil, false, &FileError{File: f.Path, Problem: err.Error()}
	}
	return out, true, nil
}

// sameTree reports whether two plaintext trees say the same: the same
// keys in the same order, the same values of the same types, the same
// comments.
func sameTree(a, b *node) bool {
	if a.kind != b.kind || len(a.keys) != len(b.keys) || len(a.items) != len(b.items) {
		return false
	}
	if a.kind == scalarNode || a.kind == commentNode {
		return a.typ == b.typ && a.value == b.value
	}
	for i := range a.keys {
		if a.keys[i] != b.keys[i] {
			return false
		}
	}
	for i := range a.items {
		if !sameTree(a.items[i], b.items[i]) {
			return false
		}
	}
	return true
}
