package k8sschema

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/k8sschema/translate"
)

// Violation is one reason an object does not match its schema.
type Violation struct {
	// Path is a JSON pointer to the offending value, e.g.
	// "/spec/template/spec/containers/0/ports/0/containerPort". For an
	// unknown field it is the field's own path ("/spec/replica"), for a
	// missing required field the path the field would have.
	Path string
	// Keyword is the JSON Schema keyword that failed: "type", "required",
	// "additionalProperties" (an unknown field), "maximum", "pattern",
	// "format", ...
	Keyword string
	// Message says what is wrong, e.g. `unknown field "replica"` or
	// "expected integer, but got string".
	Message string
}

func (v Violation) String() string {
	p := v.Path
	if p == "" {
		p = "/"
	}
	return p + ": " + v.Message
}

// Violations flattens an error returned by (*jsonschema.Schema).Validate
// into one Violation per failed check, sorted by path. It returns nil for
// a nil error; an error that is not a *jsonschema.ValidationError becomes
// a single violation at the root.
func Violations(err error) []Violation {
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Violation{{Message: err.Error()}}
	}
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		out = append(out, leafViolations(e)...)
	}
	walk(ve)
	slices.SortFunc(out, func(a, b Violation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.Message, b.Message); c != 0 {
			return c
		}
		return strings.Compare(a.Keyword, b.Keyword)
	})
	// A time that is not one fails both its pattern and its format.
	return slices.CompactFunc(out, func(a, b Violation) bool {
		return a.Path == b.Path && a.Message == b.Message
	})
}

const timeMessage = "invalid time (expected RFC 3339, e.g. 2024-01-02T15:04:05Z)"

var patternMessages = map[string]string{
	"does not match pattern " + quote(translate.Base64Pattern):    "invalid base64 data",
	"does not match pattern " + quote(translate.QuantityPattern):  "invalid quantity (expected e.g. 250m, 1.5, 512Mi, 2G)",
	"does not match pattern " + quote(translate.TimePattern):      timeMessage,
	"does not match pattern " + quote(translate.MicroTimePattern): "invalid time (expected RFC 3339 with microseconds, e.g. 2024-01-02T15:04:05.000000Z)",
}

func leafViolations(e *jsonschema.ValidationError) []Violation {
	kw := e.KeywordLocation
	if i := strings.LastIndexByte(kw, '/'); i >= 0 {
		kw = kw[i+1:]
	}
	v := Violation{Path: e.InstanceLocation, Keyword: kw, Message: e.Message}
	switch kw {
	case "additionalProperties":
		if names, ok := parseQuoted(e.Message, "additionalProperties ", " not allowed"); ok {
			var out []Violation
			for _, n := range names {
				out = append(out, Violation{Path: e.InstanceLocation + "/" + escapePointer(n), Keyword: kw, Message: fmt.Sprintf("unknown field %q", n)})
			}
			return out
		}
	case "required":
		if names, ok := parseQuoted(e.Message, "missing properties: ", ""); ok {
			var out []Violation
			for _, n := range names {
				out = append(out, Violation{Path: e.InstanceLocation + "/" + escapePointer(n), Keyword: kw, Message: fmt.Sprintf("required field %q is missing", n)})
			}
			return out
		}
	case "type":
		// Optional fields accept null; saying so in every message is noise.
		v.Message = strings.Replace(v.Message, " or null, but got ", ", but got ", 1)
	case "pattern":
		if m, ok := patternMessages[e.Message]; ok {
			v.Message = m
		}
	case "format":
		if strings.HasSuffix(e.Message, " is not valid 'date-time'") {
			v.Message = timeMessage
		}
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		v.Message = plainBound(v.Message)
	}
	return []Violation{v}
}

// plainBound rewrites jsonschema/v5's "must be <= 2.147483647e+09 but
// found 3000000000" as "must be <= 2147483647 (int32) but found
// 3000000000".
func plainBound(msg string) string {
	rest, ok := strings.CutPrefix(msg, "must be ")
	if !ok {
		return msg
	}
	op, rest, ok := strings.Cut(rest, " ")
	if !ok {
		return msg
	}
	num, found, ok := strings.Cut(rest, " but found ")
	if !ok {
		return msg
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return msg
	}
	switch f {
	case translate.MaxInt32:
		num = "2147483647 (int32)"
	case translate.MinInt32:
		num = "-2147483648 (int32)"
	case translate.MaxInt64:
		num = "9223372036854775807 (int64)"
	case translate.MinInt64:
		num = "-9223372036854775808 (int64)"
	default:
		num = strconv.FormatFloat(f, 'f', -1, 64)
	}
	return "must be " + op + " " + num + " but found " + found
}

// parseQuoted parses "PREFIX 'a', 'b' SUFFIX", the names quoted as
// jsonschema/v5 quotes them (Go %q with single quotes).
func parseQuoted(msg, prefix, suffix string) ([]string, bool) {
	s, ok := strings.CutPrefix(msg, prefix)
	if !ok {
		return nil, false
	}
	if s, ok = strings.CutSuffix(s, suffix); !ok {
		return nil, false
	}
	var names []string
	for s != "" {
		if s[0] != '\'' {
			return nil, false
		}
		var b strings.Builder
		b.WriteByte('"')
		i, closed := 1, false
		for i < len(s) {
			c := s[i]
			switch {
			case c == '\\' && i+1 < len(s):
				if s[i+1] == '\'' {
					b.WriteByte('\'')
				} else {
					b.WriteByte('\\')
					b.WriteByte(s[i+1])
				}
				i += 2
				continue
			case c == '"':
				b.WriteString(`\"`)
			case c == '\'':
				closed = true
			default:
				b.WriteByte(c)
			}
			i++
			if closed {
				break
			}
		}
		if !closed {
			return nil, false
		}
		b.WriteByte('"')
		name, err := strconv.Unquote(b.String())
		if err != nil {
			return nil, false
		}
		names = append(names, name)
		s = strings.TrimPrefix(s[i:], ", ")
	}
	slices.Sort(names)
	return names, len(names) > 0
}

// quote is jsonschema/v5's quoting of names and patterns in messages.
func quote(s string) string {
	s = fmt.Sprintf("%q", s)
	s = strings.ReplaceAll(s, `\"`, `"`)
	s = strings.ReplaceAll(s, `'`, `\'`)
	return "'" + s[1:len(s)-1] + "'"
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
