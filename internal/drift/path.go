package drift

import (
	"fmt"
	"path"
	"strconv"
	"strings"
)

// seg is one step of a field path: a map key, or a list item.
type seg struct {
	key string // map key (item == false)

	item  bool
	index int // desired index, or live index for live-only items
	// For keyed list items: the key fields and the item (whose values of
	// those fields identify it). For set items (lists of scalars matched by
	// value): set is true and value is the item.
	keys  []string
	value any
	set   bool
}

// keyString renders a keyed item's key: name=api, or
// containerPort=8080,protocol=TCP; a set item's value.
func (s seg) keyString() string {
	if s.set {
		return bracketValue(s.value)
	}
	m, _ := s.value.(map[string]any)
	var b strings.Builder
	for i, k := range s.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(bracketValue(keyField(m, k)))
	}
	return b.String()
}

func bracketValue(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case nil:
		s = ""
	default:
		s = fmt.Sprint(t)
	}
	if s == "" || strings.ContainsAny(s, "[]=,\"' \t\n") {
		return strconv.Quote(s)
	}
	return s
}

func plainKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
		default:
			return false
		}
	}
	return true
}

// pathString renders a path as the report shows it.
func pathString(p []seg) string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case s.item && (s.keys != nil || s.set):
			b.WriteByte('[')
			b.WriteString(s.keyString())
			b.WriteByte(']')
		case s.item:
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		case plainKey(s.key):
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.key)
		default:
			b.WriteByte('[')
			b.WriteString(strconv.Quote(s.key))
			b.WriteByte(']')
		}
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointerString renders a path as an RFC 6901 pointer.
func pointerString(p []seg) string {
	var b strings.Builder
	for _, s := range p {
		b.WriteByte('/')
		if s.item {
			b.WriteString(strconv.Itoa(s.index))
		} else {
			b.WriteString(pointerEscaper.Replace(s.key))
		}
	}
	return b.String()
}

// parsePointer splits an RFC 6901 pointer into unescaped tokens.
func parsePointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if !strings.HasPrefix(p, "/") {
		return nil, fmt.Errorf("JSON pointer %q must be empty or start with /", p)
	}
	toks := strings.Split(p[1:], "/")
	for i, t := range toks {
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("JSON pointer %q: ~ must be followed by 0 or 1", p)
			}
		}
		toks[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return toks, nil
}

// tokenMatches reports whether a pointer token selects a path step.
func tokenMatches(tok string, s seg) bool {
	if tok == "*" {
		return true
	}
	if !s.item {
		return tok == s.key
	}
	if tok == strconv.Itoa(s.index) {
		return true
	}
	if s.keys != nil || s.set {
		if tok == s.keyString() {
			return true
		}
		// Unquoted form of a set value or single key: name=my app.
		if s.set {
			return tok == fmt.Sprint(s.value)
		}
		if len(s.keys) == 1 {
			m, _ := s.value.(map[string]any)
			return tok == s.keys[0]+"="+fmt.Sprint(keyField(m, s.keys[0]))
		}
	}
	return false
}

// rule is a compiled IgnoreRule.
type rule struct {
	group     string
	anyGroup  bool
	kind      string
	namespace string
	name      string // glob
	exactName string
	tokens    []string
	whole     bool // empty pointer: the whole object
}

func compileRule(r IgnoreRule) (rule, error) {
	c := rule{kind: r.Kind, namespace: r.Namespace, name: r.Name, anyGroup: r.APIVersion == ""}
	if r.APIVersion != "" {
		c.group, _ = splitAPIVersion(r.APIVersion)
	}
	if r.Name != "" {
		if _, err := path.Match(r.Name, ""); err != nil {
			return c, fmt.Errorf("name glob %q: %w", r.Name, err)
		}
	}
	toks, err := parsePointer(r.Pointer)
	if err != nil {
		return c, err
	}
	c.tokens = toks
	c.whole = len(toks) == 0
	return c, nil
}

func (r rule) selects(id ObjectID) bool {
	if !r.anyGroup && r.group != id.Group {
		return false
	}
	if r.kind != "" && r.kind != id.Kind {
		return false
	}
	if r.namespace != "" && r.namespace != id.Namespace {
		return false
	}
	if r.exactName != "" && r.exactName != id.Name {
		return false
	}
	if r.name != "" {
		if ok, _ := path.Match(r.name, id.Name); !ok {
			return false
		}
	}
	return true
}

// forObject returns the rules' pointers that apply to an object, with
// /stringData/ folded into /data/ for Secrets.
func rulesFor(rules []rule, id ObjectID, secret bool) [][]string {
	var out [][]string
	for _, r := range rules {
		if r.whole || !r.selects(id) {
			continue
		}
		toks := r.tokens
		if secret && len(toks) > 0 && toks[0] == "stringData" {
			toks = append([]string{"data"}, toks[1:]...)
		}
		out = append(out, toks)
	}
	return out
}

func splitAPIVersion(av string) (group, version string) {
	if i := strings.LastIndexByte(av, '/'); i >= 0 {
		return av[:i], av[i+1:]
	}
	return "", av
}
