package overlay

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Values of at least minConcealed characters are concealed wherever they
// occur in kustomize's messages; shorter ones (down to minToken) only as
// a whole token, between characters that cannot be part of one:
// replacing every "on" in a message would make it unreadable, while a
// two-character password quoted in an error is still a password. A
// single character is not concealed: it hides nothing.
const (
	minConcealed = 4
	minToken     = 2
)

// secretValues collects what the Secrets of the render of dir are made
// of: each secretGenerator's literals, env-file lines and files, and the
// data and stringData values of Secret manifests among the local
// resources, each whole and as its value part. Kustomize quotes such text
// in some of its errors (an invalid literal, a replacement's "node
// contents", an env line's bytes); Render removes it from them.
func secretValues(fsys filesys.FileSystem, dir string) []string {
	set := map[string]bool{}
	add := func(v string) {
		v = strings.TrimSpace(v)
		if len(v) >= minToken {
			set[v] = true
		}
	}
	addLines := func(b []byte) {
		add(string(b))
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			add(sc.Text())
			if _, v, ok := strings.Cut(sc.Text(), "="); ok {
				add(v)
			}
		}
	}
	s := &causeSearch{fsys: fsys}
	seen := map[string]bool{}
	var visit func(dir string)
	visit = func(dir string) {
		if seen[filepath.Clean(dir)] || len(seen) > maxCauseVisits {
			return
		}
		seen[filepath.Clean(dir)] = true
		_, k := s.read(dir)
		if k == nil {
			return
		}
		for _, g := range k.SecretGenerator {
			for _, lit := range g.LiteralSources {
				add(lit)
				if _, v, ok := strings.Cut(lit, "="); ok {
					add(v)
					add(strings.Trim(v, `"'`))
				}
			}
			envs := g.EnvSources
			if g.EnvSource != "" {
				envs = append(envs, g.EnvSource)
			}
			for _, e := range envs {
				if b, err := fsys.ReadFile(filepath.Join(dir, e)); err == nil {
					addLines(b)
				}
			}
			for _, f := range g.FileSources {
				if _, p, ok := strings.Cut(f, "="); ok {
					f = p
				}
				if b, err := fsys.ReadFile(filepath.Join(dir, f)); err == nil {
					addLines(b)
				}
			}
		}
		for _, ref := range append(append(append([]string(nil), k.Resources...), k.Bases...), k.Components...) {
			if IsRemote(ref) {
				continue
			}
			p := filepath.Join(dir, ref)
			if fsys.IsDir(p) {
				visit(p)
			} else if b, err := fsys.ReadFile(p); err == nil {
				secretManifestValues(b, add)
			}
		}
	}
	visit(dir)
	out := make([]string, 0, len(set))
	for v := range set {
		out = append(out, v)
	}
	// Longest first, so that a value is concealed whole before a part of
	// it is.
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) || len(out[i]) == len(out[j]) && out[i] < out[j] })
	return out
}

// secretManifestValues adds the data and stringData values of the Secrets
// in a YAML stream (data values both as written and decoded).
func secretManifestValues(b []byte, add func(string)) {
	if !bytes.Contains(b, []byte("Secret")) {
		return
	}
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	for {
		var doc struct {
			Kind       string            `yaml:"kind"`
			Data       map[string]string `yaml:"data"`
			StringData map[string]string `yaml:"stringData"`
		}
		if err := dec.Decode(&doc); err != nil {
			return
		}
		if doc.Kind != "Secret" {
			continue
		}
		for _, v := range doc.Data {
			add(v)
			if d, err := base64.StdEncoding.DecodeString(v); err == nil {
				add(string(d))
			}
		}
		for _, v := range doc.StringData {
			add(v)
		}
	}
}

// conceal replaces in msg each value, as text and in the encodings
// kustomize and Go print bytes in: base64, hex, and decimal bytes ("83
// 51 99", as %v of a []byte prints them). Short values are replaced only
// as whole tokens (see minConcealed).
func conceal(msg string, values []string) string {
	const hidden = "(value hidden: Secret)"
	for _, v := range values {
		if len(v) < minToken {
			continue
		}
		for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v)), hex.EncodeToString([]byte(v)), strings.Trim(fmt.Sprint([]byte(v)), "[]")} {
			if len(v) >= minConcealed {
				msg = strings.ReplaceAll(msg, form, hidden)
			} else {
				msg = replaceToken(msg, form, hidden)
			}
		}
	}
	return msg
}

// replaceToken replaces tok in s where neither neighbour is a letter,
// digit or '_' (or another character of a base64 or hex word).
func replaceToken(s, tok, with string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, tok)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		end := i + len(tok)
		if (i == 0 || !wordByte(s[i-1])) && (end == len(s) || !wordByte(s[end])) {
			b.WriteString(s[:i])
			b.WriteString(with)
		} else {
			b.WriteString(s[:end])
		}
		s = s[end:]
	}
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '+' || c == '/' || c >= 0x80
}

// secretEnvLine finds a line without '=' in a secretGenerator's env
// source. kustomize makes such a line a key with an empty value, so a
// value pasted alone on a line (the commonest slip in a .env file) would
// be published as a key name, which every report prints. ConfigMap
// sources keep kustomize's reading; a Secret's are refused, naming file
// and line, never the text.
func secretEnvLine(fsys filesys.FileSystem, dir string) *Cause {
	s := &causeSearch{fsys: fsys}
	seen := map[string]bool{}
	var found *Cause
	var visit func(dir string)
	visit = func(dir string) {
		if found != nil || seen[filepath.Clean(dir)] || len(seen) > maxCauseVisits {
			return
		}
		seen[filepath.Clean(dir)] = true
		file, k := s.read(dir)
		if k == nil {
			return
		}
		for gi, g := range k.SecretGenerator {
			envs := g.EnvSources
			if g.EnvSource != "" {
				envs = append(envs, g.EnvSource)
			}
			for ei, e := range envs {
				b, err := fsys.ReadFile(filepath.Join(dir, e))
				if err != nil {
					continue // kustomize reports it, by cause
				}
				sc := bufio.NewScanner(bytes.NewReader(b))
				sc.Buffer(nil, 1<<20)
				for n := 1; sc.Scan(); n++ {
					l := strings.TrimSpace(sc.Text())
					if l == "" || strings.HasPrefix(l, "#") || strings.Contains(l, "=") {
						continue
					}
					found = &Cause{File: file, Field: fmt.Sprintf("secretGenerator[%d] %q: envs[%d] %q", gi, g.Name, ei, e),
						Problem: fmt.Sprintf("line %d has no '=': kustomize would make the whole line a key of the Secret, and print it wherever keys are shown; write KEY=VALUE", n)}
					return
				}
			}
		}
		for _, ref := range append(append(append([]string(nil), k.Resources...), k.Bases...), k.Components...) {
			if p := filepath.Join(dir, ref); !IsRemote(ref) && fsys.IsDir(p) {
				visit(p)
			}
		}
	}
	visit(dir)
	return found
}
