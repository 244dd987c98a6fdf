package validate

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	yaml2 "go.yaml.in/yaml/v2"
	yaml3 "go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/internal/yamlguard"
)

// document is one YAML document of a stream.
type document struct {
	// Start is the 1-based line of Data's first line in its stream; Line
	// is the line of its first content (after comments and blank lines).
	Start, Line int
	Data        []byte
}

// splitDocuments splits a YAML stream at its "---" separator lines (and
// "..." document ends), keeping each document's first line number.
// Documents that hold nothing but comments and blank lines are dropped.
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	flush := func(end int) {
		d := data[start:end]
		if n := firstContentLine(d); n > 0 {
			docs = append(docs, document{Start: startLine, Line: startLine + n - 1, Data: d})
		}
	}
	for i := 0; i < len(data); {
		j := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if j >= 0 {
			next = i + j + 1
		}
		l := bytes.TrimRight(data[i:next], "\r\n")
		switch {
		case isSeparator(l, "---"):
			flush(i)
			// "--- {a: 1}" starts a document on the separator line.
			start, startLine = i+3, line
			if len(bytes.TrimSpace(l[3:])) == 0 || bytes.HasPrefix(bytes.TrimSpace(l[3:]), []byte("#")) {
				start, startLine = next, line+1
			}
		case isSeparator(l, "..."):
			flush(i)
			start, startLine = next, line+1
		}
		i = next
		line++
	}
	flush(len(data))
	return docs
}

func isSeparator(l []byte, marker string) bool {
	if !bytes.HasPrefix(l, []byte(marker)) {
		return false
	}
	rest := l[len(marker):]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t'
}

// firstContentLine returns the 1-based line of a document's first line
// that is not a comment, blank or a directive; 0 when there is none.
func firstContentLine(d []byte) int {
	for n := 1; len(d) > 0; n++ {
		l := d
		if i := bytes.IndexByte(d, '\n'); i >= 0 {
			l, d = d[:i], d[i+1:]
		} else {
			d = nil
		}
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && t[0] != '%' {
			return n
		}
	}
	return 0
}

// decodeError is a document that is not YAML, or not an object.
type decodeError struct {
	Line int // 1-based, in the document; 0 when unknown
	Msg  string
}

func (e *decodeError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

var yamlLineRe = regexp.MustCompile(`^(?:yaml: )?(?:unmarshal errors:\s*)?line (\d+): (.*)$`)

// yamlErr turns a go-yaml error into a decodeError with its line.
func yamlErr(err error) *decodeError {
	msg := strings.TrimSpace(err.Error())
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &decodeError{Line: n, Msg: m[2]}
	}
	return &decodeError{Msg: strings.TrimPrefix(msg, "yaml: ")}
}

// errDuplicateKeys marks a document that decodes only when later keys
// replace earlier ones.
var errDuplicateKeys = errors.New("duplicate keys")

// decodeObject decodes one document into JSON values (map[string]any,
// []any, string, bool, int64, uint64, float64, nil) the way
// sigs.k8s.io/yaml does (YAML 1.1, non-string keys turned into strings),
// without its JSON round trip. It returns nil for an empty document. With
// strict, a duplicate key makes it return the object (later keys win)
// and errDuplicateKeys.
func decodeObject(data []byte, strict bool) (map[string]any, error) {
	obj, err := decodeObjectRaw(data, strict)
	if err != nil && !errors.Is(err, errDuplicateKeys) && mayBeSecret(data) {
		return obj, redactDecodeError(err)
	}
	return obj, err
}

// mayBeSecret reports whether a document that did not decode could be a
// Secret. Its kind is unknown when it does not decode, so any document
// that says "Secret" anywhere counts: go-yaml quotes the text it could
// not decode (`cannot decode !!str `hunter2` as a !!int`), and that text
// must not be a Secret's value.
func mayBeSecret(data []byte) bool {
	return bytes.Contains(data, []byte("Secret"))
}

// redactDecodeError keeps where a document stops decoding, not why.
func redactDecodeError(err error) error {
	var de *decodeError
	if errors.As(err, &de) {
		return &decodeError{Line: de.Line, Msg: "does not decode (details hidden: the document may be a Secret)"}
	}
	return &decodeError{Msg: "does not decode (details hidden: the document may be a Secret)"}
}

func decodeObjectRaw(data []byte, strict bool) (map[string]any, error) {
	if v, ok := fastDecode(data); ok {
		if v == nil {
			return nil, nil
		}
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, &decodeError{Msg: fmt.Sprintf("the document is %s, not an object", jsonTypeName(v))}
		}
		return obj, nil
	}
	return slowDecodeObject(data, strict)
}

// slowDecodeObject is decodeObject with go-yaml.
func slowDecodeObject(data []byte, strict bool) (map[string]any, error) {
	var raw any
	var dupErr error
	if strict {
		if err := yaml2.UnmarshalStrict(data, &raw); err != nil {
			if !strings.Contains(err.Error(), "already set in map") {
				return nil, yamlErr(err)
			}
			dupErr = errDuplicateKeys
			raw = nil
			if err := yaml2.Unmarshal(data, &raw); err != nil {
				return nil, yamlErr(err)
			}
		}
	} else if err := yaml2.Unmarshal(data, &raw); err != nil {
		return nil, yamlErr(err)
	}
	if raw == nil {
		return nil, dupErr
	}
	v, err := toJSON(raw)
	if err != nil {
		return nil, &decodeError{Msg: err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, &decodeError{Msg: fmt.Sprintf("the document is %s, not an object", jsonTypeName(v))}
	}
	return obj, dupErr
}

// decodeValue decodes a YAML payload (a ConfigMap value) into JSON values.
func decodeValue(data []byte) (any, error) {
	if err := yamlguard.Check(data); err != nil {
		return nil, &decodeError{Msg: err.Error()}
	}
	var raw any
	if err := yaml2.UnmarshalStrict(data, &raw); err != nil {
		return nil, yamlErr(err)
	}
	v, err := toJSON(raw)
	if err != nil {
		return nil, &decodeError{Msg: err.Error()}
	}
	return v, nil
}

// toJSON converts go-yaml v2 values into JSON values, as
// sigs.k8s.io/yaml's convertToJSONableObject does.
func toJSON(v any) (any, error) {
	switch t := v.(type) {
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			ks, err := keyString(k)
			if err != nil {
				return nil, err
			}
			ev, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			m[ks] = ev
		}
		return m, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			ev, err := toJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case int:
		return int64(t), nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, fmt.Errorf("unsupported number %v (JSON has no infinity or NaN)", t)
		}
		return t, nil
	case string, bool, nil, int64, uint64:
		return t, nil
	}
	return nil, fmt.Errorf("unsupported YAML value %v (%T)", v, v)
}

// keyString turns a YAML key into a JSON one as sigs.k8s.io/yaml does.
func keyString(k any) (string, error) {
	switch kt := k.(type) {
	case string:
		return kt, nil
	case int:
		return strconv.Itoa(kt), nil
	case int64:
		return strconv.FormatInt(kt, 10), nil
	case float64:
		ks := strconv.FormatFloat(kt, 'g', -1, 32)
		switch ks {
		case "+Inf":
			ks = ".inf"
		case "-Inf":
			ks = "-.inf"
		case "NaN":
			ks = ".nan"
		}
		return ks, nil
	case bool:
		return strconv.FormatBool(kt), nil
	}
	return "", fmt.Errorf("unsupported map key %v (%T)", k, k)
}

func jsonTypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a number"
}

// duplicateKeys finds the keys of a document that appear twice in the
// same mapping, as JSON pointers with the line of the second occurrence.
func duplicateKeys(data []byte) []fieldLine {
	var root yaml3.Node
	if yaml3.Unmarshal(data, &root) != nil {
		return nil
	}
	var out []fieldLine
	var walk func(n *yaml3.Node, ptr string)
	walk = func(n *yaml3.Node, ptr string) {
		switch n.Kind {
		case yaml3.DocumentNode:
			for _, c := range n.Content {
				walk(c, ptr)
			}
		case yaml3.MappingNode:
			seen := map[string]bool{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i].Value
				p := ptr + "/" + escapePointer(k)
				if seen[k] {
					out = append(out, fieldLine{Pointer: p, Line: n.Content[i].Line})
				}
				seen[k] = true
				walk(n.Content[i+1], p)
			}
		case yaml3.SequenceNode:
			for i, c := range n.Content {
				walk(c, ptr+"/"+strconv.Itoa(i))
			}
		}
	}
	walk(&root, "")
	return out
}

type fieldLine struct {
	Pointer string
	Line    int
}

// lineOf returns the line (1-based, in data) of the field a JSON pointer
// names, or of its deepest ancestor that data holds; 0 when data does not
// parse.
func lineOf(root *yaml3.Node, pointer string) int {
	line, _ := nodeLine(root, pointer)
	return line
}

// nodeLine is lineOf, and whether the tree holds the whole pointer.
func nodeLine(root *yaml3.Node, pointer string) (line int, whole bool) {
	n := root
	if n == nil {
		return 0, false
	}
	if n.Kind == yaml3.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line = n.Line
	for _, seg := range splitPointer(pointer) {
		var next *yaml3.Node
		switch n.Kind {
		case yaml3.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					line = n.Content[i].Line
					next = n.Content[i+1]
				}
			}
		case yaml3.SequenceNode:
			if idx, err := strconv.Atoi(seg); err == nil && idx >= 0 && idx < len(n.Content) {
				next = n.Content[idx]
				line = next.Line
			}
		}
		if next == nil {
			return line, false
		}
		n = next
	}
	return line, true
}
