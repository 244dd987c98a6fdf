package validate

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"
)

// fastDecode decodes the YAML that renderers print (kustomize, kubectl,
// helm: block mappings and sequences, plain, quoted and literal scalars,
// comments) straight into JSON values, about five times faster than
// go-yaml. It resolves plain scalars exactly as go-yaml v2 does (YAML
// 1.1: yes, on, 0x1F, 0644, 1_000 ...). Anything outside that subset
// (anchors, aliases, tags, flow collections, folded or multi-line
// scalars, merge keys, duplicate keys, tabs in indentation) makes it
// return ok=false, and the caller decodes with go-yaml, which also
// produces the error messages; so fastDecode never decides that a
// document is wrong. TestFastDecodeAgreesWithGoYAML holds it to go-yaml on
// every document the tests have.
//
// The strings of the result share data's memory (no copy of each
// document, which would double what validating a stream allocates), so
// data must not be modified afterwards: envctl's inputs are read once
// and never written.
func fastDecode(data []byte) (v any, ok bool) {
	return fastParse(data, nil)
}

// fastLines maps the JSON pointer of every node of a document to its
// 1-based line (a mapping entry's key line, a sequence item's first
// line), as lineOf finds them in go-yaml's tree; ok is false for a
// document outside fastDecode's subset. It locates the problems of an
// invalid document several times faster than a go-yaml node tree.
func fastLines(data []byte) (lines map[string]int, ok bool) {
	lines = map[string]int{}
	if _, ok := fastParse(data, lines); !ok {
		return nil, false
	}
	return lines, true
}

// lineAt is the line of pointer in fastLines' map, or of its nearest
// ancestor that is there (lineOf's answer for a field that is missing).
func lineAt(lines map[string]int, pointer string) int {
	for {
		if l, ok := lines[pointer]; ok {
			return l
		}
		i := strings.LastIndexByte(pointer, '/')
		if i < 0 {
			return 0
		}
		pointer = pointer[:i]
	}
}

func fastParse(data []byte, at map[string]int) (v any, ok bool) {
	lines := linePool.Get().(*[]fastLine)
	p := fastParser{lines: (*lines)[:0], at: at}
	defer func() {
		// The lines hold substrings of data, which the caller keeps
		// anyway; cleared so a pooled slice pins no old input.
		clear(p.lines)
		*lines = p.lines[:0]
		linePool.Put(lines)
	}()
	if !p.split(data) {
		return nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			if _, isBail := r.(bail); !isBail {
				panic(r)
			}
			v, ok = nil, false
		}
	}()
	p.skipBlank()
	if p.i >= len(p.lines) {
		return nil, true
	}
	p.mark()
	v = p.block(0)
	p.skipBlank()
	if p.i < len(p.lines) {
		p.fail()
	}
	return v, true
}

type bail struct{}

// linePool reuses the line index of a document: a stream of ten thousand
// objects would otherwise allocate a fresh one per object.
var linePool = sync.Pool{New: func() any { return new([]fastLine) }}

type fastLine struct {
	s      string // the line without its line break
	indent int    // column of the first non-space character
	blank  bool   // empty, spaces only, or a comment
}

type fastParser struct {
	lines []fastLine
	i     int
	// at, when set, gets the line of every node (fastLines); path is the
	// JSON pointer of the node being parsed.
	at   map[string]int
	path []byte
	// open is set when the last line has no line break.
	open bool
}

func (p *fastParser) fail() { panic(bail{}) }

func (p *fastParser) split(data []byte) bool {
	if !printable(data) {
		return false
	}
	s := unsafe.String(unsafe.SliceData(data), len(data))
	p.open = len(s) > 0 && s[len(s)-1] != '\n'
	for len(s) > 0 {
		var l string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			l, s = s[:i], s[i+1:]
		} else {
			l, s = s, ""
		}
		if strings.HasSuffix(l, "\r") || strings.ContainsRune(l, '\ufeff') {
			return false
		}
		n := 0
		for n < len(l) && l[n] == ' ' {
			n++
		}
		rest := l[n:]
		if rest != "" && rest[0] == '\t' {
			return false // tabs in indentation
		}
		p.lines = append(p.lines, fastLine{s: l, indent: n, blank: rest == "" || rest[0] == '#'})
	}
	return true
}

func (p *fastParser) skipBlank() {
	for p.i < len(p.lines) && p.lines[p.i].blank {
		p.i++
	}
}

// block parses the block node starting at the current line, whose indent
// must be at least min.
func (p *fastParser) block(min int) any {
	p.skipBlank()
	if p.i >= len(p.lines) || p.lines[p.i].indent < min {
		return nil
	}
	l := p.lines[p.i]
	c := l.s[l.indent:]
	if c == "-" || strings.HasPrefix(c, "- ") {
		return p.seq(l.indent)
	}
	return p.mapping(l.indent)
}

func isSeqItem(c string) bool { return c == "-" || strings.HasPrefix(c, "- ") }

func (p *fastParser) mapping(n int) map[string]any {
	m := map[string]any{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return m
		}
		l := p.lines[p.i]
		if l.indent < n {
			return m
		}
		if l.indent > n {
			p.fail()
		}
		c := l.s[n:]
		if isSeqItem(c) {
			p.fail()
		}
		key, rest := p.key(c)
		if _, dup := m[key]; dup {
			p.fail()
		}
		if p.at == nil {
			p.i++
			m[key] = p.value(rest, n, true)
			continue
		}
		up := p.enter(escapePointer(key))
		p.i++
		m[key] = p.value(rest, n, true)
		p.path = p.path[:up]
	}
}

// enter appends a segment to the current path and records the current
// line as its line; it returns the path's length before.
func (p *fastParser) enter(seg string) int {
	up := len(p.path)
	p.path = append(append(p.path, '/'), seg...)
	p.mark()
	return up
}

func (p *fastParser) mark() {
	if p.at != nil {
		p.at[string(p.path)] = p.i + 1
	}
}

// key parses "key: rest" or "key:" and returns the key as JSON has it.
func (p *fastParser) key(c string) (string, string) {
	if len(c) > 1000 {
		// YAML limits implicit keys to 1024 characters; long lines are
		// left to go-yaml.
		if i := strings.Index(c, ": "); i < 0 || i > 1000 {
			p.fail()
		}
	}
	switch c[0] {
	case '"', '\'':
		k, rest := p.quoted(c)
		if rest == "" || rest[0] != ':' {
			p.fail()
		}
		rest = rest[1:]
		if rest != "" && rest[0] != ' ' {
			p.fail()
		}
		return k, rest
	case '?', '&', '*', '!', '|', '>', '%', '@', '`', '{', '[', ']', '}', ',', '#', '-', ':':
		p.fail()
	}
	i := strings.Index(c, ": ")
	var k, rest string
	if i < 0 {
		if !strings.HasSuffix(c, ":") {
			p.fail()
		}
		k = c[:len(c)-1]
	} else {
		k, rest = c[:i], c[i+1:]
	}
	if strings.Contains(k, " #") || strings.ContainsAny(k, "\t") || k != strings.TrimRight(k, " ") {
		p.fail()
	}
	v := resolvePlain(k)
	if v == "<<" {
		p.fail() // a merge key
	}
	ks, err := keyString(v)
	if err != nil {
		p.fail()
	}
	return ks, rest
}

// value parses what follows "key:" or "- " (rest, after the indicator)
// for a node whose parent is at indent n. inMap allows a sequence at the
// parent's own indent ("key:\n- a"), as YAML does for mapping values.
func (p *fastParser) value(rest string, n int, inMap bool) any {
	rest = strings.TrimLeft(rest, " ")
	if rest != "" && rest[0] == '\t' {
		p.fail()
	}
	if rest == "" || rest[0] == '#' {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return nil
		}
		l := p.lines[p.i]
		switch {
		case l.indent > n:
			return p.block(l.indent)
		case l.indent == n && inMap && isSeqItem(l.s[n:]):
			return p.seq(n)
		}
		return nil
	}
	var v any
	switch rest[0] {
	case '|':
		return p.literal(rest, n)
	case '"', '\'':
		s, after := p.quoted(rest)
		if after = strings.TrimLeft(after, " "); after != "" && after[0] != '#' {
			p.fail()
		}
		v = s
	case '{', '[':
		r := strings.TrimRight(strings.SplitN(rest, " #", 2)[0], " ")
		switch r {
		case "{}":
			v = map[string]any{}
		case "[]":
			v = []any{}
		default:
			p.fail()
		}
	case '>', '&', '*', '!', '%', '@', '`', ',', ']', '}', '?', ':', '-':
		if len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t' || (rest[0] != '-' && rest[0] != ':' && rest[0] != '?') {
			p.fail()
		}
		v = p.plain(rest)
	default:
		v = p.plain(rest)
	}
	// A scalar must end on its line: a more indented line continues it.
	j := p.i
	for j < len(p.lines) && p.lines[j].blank {
		j++
	}
	if j < len(p.lines) && p.lines[j].indent > n {
		p.fail()
	}
	return v
}

func (p *fastParser) plain(s string) any {
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimRight(s, " \t")
	if strings.Contains(s, ": ") || strings.Contains(s, ":\t") || strings.HasSuffix(s, ":") || strings.Contains(s, "\t#") {
		p.fail()
	}
	v := resolvePlain(s)
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		p.fail()
	}
	return v
}

// quoted parses a quoted scalar that ends on its line and returns it and
// what follows the closing quote.
func (p *fastParser) quoted(s string) (string, string) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		if q == '\'' {
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					b.WriteByte('\'')
					i++
					continue
				}
				return b.String(), s[i+1:]
			}
			b.WriteByte(c)
			continue
		}
		switch c {
		case '"':
			return b.String(), s[i+1:]
		case '\\':
			if i+1 >= len(s) {
				p.fail()
			}
			i++
			switch e := s[i]; e {
			case '\\', '"':
				b.WriteByte(e)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '0':
				b.WriteByte(0)
			case ' ':
				b.WriteByte(' ')
			case 'u', 'x', 'U':
				size := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+size >= len(s) {
					p.fail()
				}
				r, err := strconv.ParseUint(s[i+1:i+1+size], 16, 32)
				if err != nil || !utf8.ValidRune(rune(r)) {
					p.fail()
				}
				b.WriteRune(rune(r))
				i += size
			default:
				p.fail()
			}
		default:
			b.WriteByte(c)
		}
	}
	p.fail() // not closed on its line
	return "", ""
}

// literal parses a literal block scalar ("|", "|-", "|+") whose parent is
// at indent n; the header is the current line's rest.
func (p *fastParser) literal(header string, n int) string {
	h := strings.TrimRight(strings.SplitN(header, " #", 2)[0], " ")
	chomp := byte(0)
	switch h {
	case "|":
	case "|-":
		chomp = '-'
	case "|+":
		chomp = '+'
	default:
		p.fail() // indentation indicators
	}
	// The content's indent is the first line's; a blank line before it
	// is left to go-yaml.
	if p.i >= len(p.lines) {
		return ""
	}
	first := p.lines[p.i]
	if strings.TrimLeft(first.s, " ") == "" {
		p.fail()
	}
	ind := first.indent
	if ind <= n {
		return "" // an empty scalar
	}
	var b strings.Builder
	trailing := 0 // line breaks of blank lines not yet written
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if strings.TrimLeft(l.s, " ") == "" {
			if len(l.s) > ind {
				p.fail()
			}
			if !(p.open && p.i == len(p.lines)-1) {
				trailing++
			}
			p.i++
			continue
		}
		if l.indent < ind {
			break
		}
		for ; trailing > 0; trailing-- {
			b.WriteByte('\n')
		}
		b.WriteString(l.s[ind:])
		if !(p.open && p.i == len(p.lines)-1) {
			b.WriteByte('\n')
		}
		p.i++
	}
	s := b.String()
	switch chomp {
	case '-':
		s = strings.TrimRight(s, "\n")
	case '+':
		s += strings.Repeat("\n", trailing)
	}
	return s
}

func (p *fastParser) seq(n int) []any {
	out := []any{}
	for {
		p.skipBlank()
		if p.i >= len(p.lines) {
			return out
		}
		l := p.lines[p.i]
		if l.indent != n || !isSeqItem(l.s[n:]) {
			if l.indent > n {
				p.fail()
			}
			return out
		}
		c := l.s[n+1:]
		col := n + 1 + len(c) - len(strings.TrimLeft(c, " "))
		c = strings.TrimLeft(c, " ")
		if c != "" && c[0] == '\t' {
			p.fail()
		}
		up := -1
		if p.at != nil {
			up = p.enter(strconv.Itoa(len(out)))
		}
		switch {
		case c == "" || c[0] == '#':
			p.i++
			if up >= 0 {
				// go-yaml's node for "-" followed by a block starts at
				// the block.
				p.skipBlank()
				if p.i < len(p.lines) && p.lines[p.i].indent > n {
					p.mark()
				}
			}
			out = append(out, p.value("", n, false))
		case isSeqItem(c):
			p.fail() // "- - x"
		case isMapLine(c):
			// "- key: value": a mapping whose keys are at the column of
			// the first key.
			p.lines[p.i].indent = col
			out = append(out, p.mapping(col))
		default:
			p.i++
			out = append(out, p.value(c, n, false))
		}
		if up >= 0 {
			p.path = p.path[:up]
		}
	}
}

// isMapLine reports whether a line's content starts a mapping entry.
func isMapLine(c string) bool {
	switch c[0] {
	case '"', '\'':
		q := c[0]
		for i := 1; i < len(c); i++ {
			if c[i] == '\\' && q == '"' {
				i++
				continue
			}
			if c[i] == q {
				if q == '\'' && i+1 < len(c) && c[i+1] == '\'' {
					i++
					continue
				}
				rest := c[i+1:]
				return rest == ":" || strings.HasPrefix(rest, ": ")
			}
		}
		return false
	case '{', '[', '|', '>', '&', '*', '!', '#':
		return false
	}
	i := strings.Index(c, ": ")
	if i < 0 {
		return strings.HasSuffix(c, ":") && !strings.Contains(c, " #")
	}
	return !strings.Contains(c[:i], " #")
}

// resolvePlain resolves a plain scalar as go-yaml v2's resolve does for
// an untagged scalar decoded into interface{} (timestamps stay strings),
// with ints as int64 as sigs.k8s.io/yaml leaves them.
func resolvePlain(s string) any {
	if s == "" {
		return nil
	}
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON":
		return true
	case "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF":
		return false
	case "~", "null", "Null", "NULL":
		return nil
	case ".nan", ".NaN", ".NAN":
		return math.NaN()
	case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF":
		return math.Inf(1)
	case "-.inf", "-.Inf", "-.INF":
		return math.Inf(-1)
	}
	switch c := s[0]; {
	case c == '.':
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case c == '+' || c == '-' || (c >= '0' && c <= '9'):
		plain := strings.ReplaceAll(s, "_", "")
		if i, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return i
		}
		if u, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return u
		}
		if yamlStyleFloat.MatchString(plain) {
			if f, err := strconv.ParseFloat(plain, 64); err == nil {
				return f
			}
		}
		if strings.HasPrefix(plain, "0b") {
			if i, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
				return i
			}
			if u, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
				return u
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if i, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return i
			}
		}
	}
	return s
}

var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// printable reports whether data holds only the characters YAML allows
// in a stream (go-yaml rejects the others).
func printable(data []byte) bool {
	for i := 0; i < len(data); {
		b := data[i]
		if b < utf8.RuneSelf {
			if b != '\t' && b != '\n' && (b < 0x20 || b > 0x7e) {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return false
		case r == 0x85, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD && r != 0xFEFF, r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += size
	}
	return true
}
