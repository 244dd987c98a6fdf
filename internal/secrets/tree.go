package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	yaml3 "go.yaml.in/yaml/v3"
)

// Format is how a SOPS file stores its tree. The sops CLI picks it from
// the file name, and so does envctl, so that a file means the same to both.
type Format int

const (
	FormatBinary Format = iota
	FormatYAML
	FormatJSON
	FormatDotenv
)

func (f Format) String() string {
	return [...]string{"binary", "yaml", "json", "dotenv"}[f]
}

// FormatOf is the format sops uses for path: .yaml/.yml, .json, .env,
// anything else binary (sops' .ini store is not supported: envctl treats
// such a file as binary, as kustomize has no use for ini files).
func FormatOf(path string) Format {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".yaml", ".yml":
		return FormatYAML
	case ".json":
		return FormatJSON
	case ".env":
		return FormatDotenv
	}
	return FormatBinary
}

type kind uint8

const (
	mapNode kind = iota
	listNode
	scalarNode
	commentNode // a comment line (dotenv, YAML): kept, encrypted, not in the MAC
)

// node is the tree of a SOPS file in the order of the file, which is the
// order sops walks to compute the MAC.
type node struct {
	kind  kind
	keys  []string // mapNode: the key of each item ("" for a comment)
	items []*node  // mapNode values, listNode items
	// typ is a scalar's type as sops names it in ENC[...,type:T]: str,
	// int, float, bool, time, bytes, or null (never encrypted).
	typ   string
	value string // a scalar's text (canonical for int, float, bool)
	// inline marks a YAML comment that was on its value's line; sops
	// writes it back there.
	inline bool
}

func str(v string) *node { return &node{kind: scalarNode, typ: "str", value: v} }

func (n *node) get(key string) *node {
	if n == nil || n.kind != mapNode {
		return nil
	}
	for i, k := range n.keys {
		if k == key && n.items[i].kind != commentNode {
			return n.items[i]
		}
	}
	return nil
}

func (n *node) set(key string, v *node) {
	for i, k := range n.keys {
		if k == key && n.items[i].kind != commentNode {
			n.items[i] = v
			return
		}
	}
	n.keys = append(n.keys, key)
	n.items = append(n.items, v)
}

func (n *node) remove(key string) {
	for i, k := range n.keys {
		if k == key && n.items[i].kind != commentNode {
			n.keys = append(n.keys[:i:i], n.keys[i+1:]...)
			n.items = append(n.items[:i:i], n.items[i+1:]...)
			return
		}
	}
}

func (n *node) text() string {
	if n == nil || n.kind != scalarNode {
		return ""
	}
	return n.value
}

// parseTree reads a file of format f. For binary, b is the encrypted
// file (JSON); a plaintext binary file is wrapped by plainTree instead.
// Errors say where, never what: the text may be a secret.
func parseTree(f Format, b []byte) (*node, error) {
	switch f {
	case FormatDotenv:
		return parseDotenv(b)
	default:
		return parseYAML(b)
	}
}

// plainTree is the tree sops encrypts for a plaintext file.
func plainTree(f Format, b []byte) (*node, error) {
	if f == FormatBinary {
		return &node{kind: mapNode, keys: []string{"data"}, items: []*node{str(string(b))}}, nil
	}
	return parseTree(f, b)
}

func parseDotenv(b []byte) (*node, error) {
	root := &node{kind: mapNode}
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == '#' {
			root.keys = append(root.keys, "")
			root.items = append(root.items, &node{kind: commentNode, typ: "comment", value: string(line[1:])})
			continue
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			return nil, fmt.Errorf("line %d: not KEY=VALUE", i+1)
		}
		root.keys = append(root.keys, string(k))
		root.items = append(root.items, str(strings.ReplaceAll(string(v), `\n`, "\n")))
	}
	return root, nil
}

func parseYAML(b []byte) (*node, error) {
	dec := yaml3.NewDecoder(bytes.NewReader(b))
	var doc yaml3.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("empty file")
		}
		return nil, errors.New(strings.TrimPrefix(lineOnly(err), "yaml: "))
	}
	var extra yaml3.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, errors.New("holds more than one YAML document (envctl reads single-document SOPS files)")
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml3.MappingNode {
		return nil, errors.New("is not a mapping at the top level")
	}
	root, err := fromYAML(doc.Content[0], 0)
	if err != nil {
		return nil, err
	}
	// The document's own comments surround its mapping's, as sops reads
	// them.
	top := &node{kind: mapNode}
	comments(top, doc.HeadComment, false)
	comments(top, doc.LineComment, false)
	top.keys, top.items = append(top.keys, root.keys...), append(top.items, root.items...)
	comments(top, doc.FootComment, false)
	return top, nil
}

// lineOnly keeps a YAML error's position and drops the rest: go-yaml
// quotes the offending text, which may be a secret.
func lineOnly(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i:]
		if j := strings.IndexByte(rest, ':'); j >= 0 {
			return "invalid YAML at " + rest[:j]
		}
	}
	return "invalid YAML or JSON"
}

// fromYAML builds the tree of a YAML node with its comments where sops's
// YAML store puts them (stores/yaml: appendYamlNodeToTreeBranch and
// nodeToTreeValue): one comment item per comment line, before or after
// the entry whose head, line or foot comment it is. The comments of a
// scalar value were handled by its entry (handled).
func fromYAML(y *yaml3.Node, depth int) (*node, error) {
	return fromYAMLNode(y, depth, false)
}

func comments(n *node, text string, inline bool) {
	for _, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		c := &node{kind: commentNode, typ: "comment", value: line[1:], inline: inline}
		if n.kind == mapNode {
			n.keys = append(n.keys, "")
		}
		n.items = append(n.items, c)
	}
}

func fromYAMLNode(y *yaml3.Node, depth int, handled bool) (*node, error) {
	if depth > 100 {
		return nil, errors.New("nested too deeply")
	}
	for y.Kind == yaml3.AliasNode {
		y, handled = y.Alias, false
	}
	switch y.Kind {
	case yaml3.MappingNode:
		n := &node{kind: mapNode}
		if !handled {
			comments(n, y.HeadComment, false)
			comments(n, y.LineComment, false)
		}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, val := y.Content[i], y.Content[i+1]
			if k.Kind != yaml3.ScalarNode {
				return nil, fmt.Errorf("line %d: a key that is not a string", k.Line)
			}
			comments(n, k.HeadComment, false)
			comments(n, k.LineComment, false)
			scalar := val.Kind == yaml3.ScalarNode || val.Kind == yaml3.AliasNode
			if scalar {
				comments(n, val.HeadComment, false)
				comments(n, val.LineComment, true)
			}
			v, err := fromYAMLNode(val, depth+1, scalar)
			if err != nil {
				return nil, err
			}
			n.keys = append(n.keys, k.Value)
			n.items = append(n.items, v)
			if scalar {
				comments(n, val.FootComment, false)
			}
			comments(n, k.FootComment, false)
		}
		if !handled {
			comments(n, y.FootComment, false)
		}
		return n, nil
	case yaml3.SequenceNode:
		n := &node{kind: listNode}
		if !handled {
			comments(n, y.HeadComment, false)
			comments(n, y.LineComment, false)
		}
		for _, c := range y.Content {
			comments(n, c.HeadComment, false)
			comments(n, c.LineComment, true)
			v, err := fromYAMLNode(c, depth+1, true)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
			comments(n, c.FootComment, false)
		}
		if !handled {
			comments(n, y.FootComment, false)
		}
		return n, nil
	case yaml3.ScalarNode:
		switch y.ShortTag() {
		case "!!int":
			var v int
			if y.Decode(&v) == nil {
				return &node{kind: scalarNode, typ: "int", value: strconv.Itoa(v)}, nil
			}
			return str(y.Value), nil // beyond int: sops keeps such a number as text too
		case "!!float":
			var v float64
			if y.Decode(&v) == nil {
				return &node{kind: scalarNode, typ: "float", value: strconv.FormatFloat(v, 'f', -1, 64)}, nil
			}
		case "!!bool":
			var v bool
			if y.Decode(&v) == nil {
				return &node{kind: scalarNode, typ: "bool", value: strconv.FormatBool(v)}, nil
			}
		case "!!null":
			return &node{kind: scalarNode, typ: "null", value: "null"}, nil
		case "!!timestamp":
			var v time.Time
			if y.Decode(&v) == nil {
				t, _ := v.MarshalText()
				return &node{kind: scalarNode, typ: "time", value: string(t)}, nil
			}
		}
		return str(y.Value), nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", y.Line)
}

// emit writes the tree in format f. For binary it writes the data value.
func emit(f Format, n *node) ([]byte, error) { return emitIndent(f, n, "") }

// emitIndent is emit with the indentation of an existing file ("" for
// envctl's own: two spaces in YAML, four in JSON).
func emitIndent(f Format, n *node, indent string) ([]byte, error) {
	switch f {
	case FormatDotenv:
		return emitDotenv(n)
	case FormatJSON:
		var b bytes.Buffer
		if indent == "" {
			indent = "    "
		}
		emitJSON(&b, n, "", indent)
		b.WriteByte('\n')
		return b.Bytes(), nil
	case FormatBinary:
		d := n.get("data")
		if d == nil || d.kind != scalarNode {
			return nil, errors.New("a binary SOPS file has no data")
		}
		return []byte(d.value), nil
	}
	var b bytes.Buffer
	enc := yaml3.NewEncoder(&b)
	enc.SetIndent(max(2, len(indent)))
	if err := enc.Encode(toYAML(n)); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func emitDotenv(n *node) ([]byte, error) {
	var b bytes.Buffer
	for i, k := range n.keys {
		it := n.items[i]
		switch it.kind {
		case commentNode:
			b.WriteString("#" + it.value + "\n")
		case scalarNode:
			b.WriteString(k + "=" + strings.ReplaceAll(it.value, "\n", `\n`) + "\n")
		default:
			return nil, fmt.Errorf("key %q: a dotenv file holds no nested values", k)
		}
	}
	return b.Bytes(), nil
}

// toYAML is the YAML of a tree, its comments placed as sops's YAML store
// places them (appendTreeBranch, appendSequence): a comment line goes to
// the head of the next entry, an inline one to the line of the next
// value, and those after the last entry to its foot.
func toYAML(n *node) *yaml3.Node {
	switch n.kind {
	case mapNode, listNode:
		y := &yaml3.Node{Kind: yaml3.MappingNode, Tag: "!!map"}
		if n.kind == listNode {
			y = &yaml3.Node{Kind: yaml3.SequenceNode, Tag: "!!seq"}
		}
		var head, line []string
		for i, it := range n.items {
			if it.kind == commentNode {
				if it.inline {
					line = append(line, "#"+it.value)
				} else {
					head = append(head, "#"+it.value)
				}
				continue
			}
			if len(y.Content) == 0 {
				y.HeadComment, head = joinComments(y.HeadComment, head), nil
			}
			v := toYAML(it)
			if n.kind == mapNode {
				k := &yaml3.Node{Kind: yaml3.ScalarNode, Tag: "!!str", Value: n.keys[i]}
				k.HeadComment, head = joinComments(k.HeadComment, head), nil
				y.Content = append(y.Content, k, v)
			} else {
				v.HeadComment, head = joinComments(v.HeadComment, head), nil
				y.Content = append(y.Content, v)
			}
			v.LineComment, line = joinComments(v.LineComment, line), nil
		}
		if rest := append(head, line...); len(rest) > 0 {
			switch {
			case len(y.Content) == 0:
				y.HeadComment = joinComments(y.HeadComment, rest)
			case n.kind == mapNode:
				last := y.Content[len(y.Content)-2]
				last.FootComment = joinComments(last.FootComment, rest)
			default:
				last := y.Content[len(y.Content)-1]
				last.FootComment = joinComments(last.FootComment, rest)
			}
		}
		return y
	}
	tag := map[string]string{"int": "!!int", "float": "!!float", "bool": "!!bool", "null": "!!null", "time": "!!timestamp"}[n.typ]
	if tag == "" {
		tag = "!!str"
	}
	return &yaml3.Node{Kind: yaml3.ScalarNode, Tag: tag, Value: n.value}
}

func emitJSON(b *bytes.Buffer, n *node, indent, step string) {
	in := indent + step
	switch n.kind {
	case mapNode:
		b.WriteString("{")
		first := true
		for i, k := range n.keys {
			if n.items[i].kind == commentNode {
				continue
			}
			if !first {
				b.WriteString(",")
			}
			first = false
			b.WriteString("\n" + in)
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(": ")
			emitJSON(b, n.items[i], in, step)
		}
		if !first {
			b.WriteString("\n" + indent)
		}
		b.WriteString("}")
	case listNode:
		b.WriteString("[")
		for i, it := range n.items {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("\n" + in)
			emitJSON(b, it, in, step)
		}
		if len(n.items) > 0 {
			b.WriteString("\n" + indent)
		}
		b.WriteString("]")
	default:
		switch n.typ {
		case "int", "float", "bool", "null":
			b.WriteString(n.value)
		default:
			vb, _ := json.Marshal(n.value)
			b.Write(vb)
		}
	}
}

// indentOf is the indentation of a YAML or JSON file: its first indented
// line's leading blanks ("" when there is none, or for other formats).
func indentOf(f Format, b []byte) string {
	if f != FormatYAML && f != FormatJSON && f != FormatBinary {
		return ""
	}
	for _, line := range bytes.Split(b, []byte("\n"))[1:] {
		n := len(line) - len(bytes.TrimLeft(line, " \t"))
		if n > 0 && n < len(line) {
			if f == FormatYAML && line[0] == '\t' {
				return "" // tabs do not indent YAML
			}
			return string(line[:n])
		}
	}
	return ""
}

func joinComments(existing string, lines []string) string {
	if len(lines) == 0 {
		return existing
	}
	if existing == "" {
		return strings.Join(lines, "\n")
	}
	return existing + "\n" + strings.Join(lines, "\n")
}
