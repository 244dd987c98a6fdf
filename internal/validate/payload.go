package validate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// payloadError is a value that does not parse as its declared format.
type payloadError struct {
	Format       string
	Line, Column int // 1-based; 0 when unknown
	Msg          string
}

func (e *payloadError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "not valid %s", formatNames[e.Format])
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	return b.String()
}

var formatNames = map[string]string{"json": "JSON", "yaml": "YAML", "properties": "properties", "env": "env file"}

// parsePayload parses a data value in a contract's format into JSON
// values: JSON and YAML documents as they are, properties and env files as
// an object of strings.
func parsePayload(format, s string) (any, error) {
	switch format {
	case "json":
		return parseJSON(s)
	case "yaml":
		v, err := decodeValue([]byte(s))
		if err != nil {
			var de *decodeError
			if errors.As(err, &de) {
				return nil, &payloadError{Format: format, Line: de.Line, Msg: de.Msg}
			}
			return nil, &payloadError{Format: format, Msg: err.Error()}
		}
		return v, nil
	case "properties":
		return parseProperties(s)
	case "env":
		return parseEnv(s)
	}
	return nil, fmt.Errorf("unknown format %q", format)
}

func parseJSON(s string) (any, error) {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	if err == nil {
		var extra any
		off := int(d.InputOffset())
		if err2 := d.Decode(&extra); err2 != io.EOF {
			for off < len(s) && strings.ContainsRune(" \t\r\n", rune(s[off])) {
				off++
			}
			line, col := position(s, off+1)
			return nil, &payloadError{Format: "json", Line: line, Column: col, Msg: "more than one JSON value"}
		}
		return v, nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		line, col := position(s, int(se.Offset))
		return nil, &payloadError{Format: "json", Line: line, Column: col, Msg: se.Error()}
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		line, col := position(s, len(s))
		return nil, &payloadError{Format: "json", Line: line, Column: col, Msg: "unexpected end of input"}
	}
	return nil, &payloadError{Format: "json", Msg: err.Error()}
}

// position turns a byte offset into a 1-based line and column. JSON
// syntax errors report the offset after the offending byte.
func position(s string, off int) (int, int) {
	if off > len(s) {
		off = len(s)
	}
	if off > 0 {
		off--
	}
	line := 1 + strings.Count(s[:off], "\n")
	col := off - strings.LastIndexByte(s[:off], '\n')
	return line, col
}

// parseProperties parses a Java .properties file: "key=value",
// "key: value" or "key value" lines, # and ! comments, backslash line
// continuations and escapes (\t \n \r \f \uXXXX).
func parseProperties(s string) (any, error) {
	out := map[string]any{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		line := strings.TrimLeft(strings.TrimRight(lines[i], "\r"), " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		// Join continuation lines: an odd number of trailing backslashes.
		for endsWithContinuation(line) {
			line = line[:len(line)-1]
			i++
			if i >= len(lines) {
				break
			}
			line += strings.TrimLeft(strings.TrimRight(lines[i], "\r"), " \t\f")
		}
		key, value := splitProperty(line)
		k, err := unescapeProperty(key)
		if err != nil {
			return nil, &payloadError{Format: "properties", Line: start, Msg: err.Error()}
		}
		v, err := unescapeProperty(value)
		if err != nil {
			return nil, &payloadError{Format: "properties", Line: start, Msg: err.Error()}
		}
		out[k] = v
	}
	return out, nil
}

func endsWithContinuation(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

func splitProperty(line string) (string, string) {
	for i := 0; i < len(line); i++ {
		switch c := line[i]; c {
		case '\\':
			i++
		case '=', ':', ' ', '\t', '\f':
			key := line[:i]
			rest := strings.TrimLeft(line[i:], " \t\f")
			if c == ' ' || c == '\t' || c == '\f' {
				if rest != "" && (rest[0] == '=' || rest[0] == ':') {
					rest = strings.TrimLeft(rest[1:], " \t\f")
				}
			} else {
				rest = strings.TrimLeft(rest[1:], " \t\f")
			}
			return key, rest
		}
	}
	return line, ""
}

func unescapeProperty(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch s[i] {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", errors.New(`malformed \uXXXX escape`)
			}
			n, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", errors.New(`malformed \uXXXX escape`)
			}
			b.WriteRune(rune(n))
			i += 4
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), nil
}

var envKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// parseEnv parses an env file as kustomize's envs: and docker --env-file
// read it: KEY=VALUE lines ("export " allowed), # comments, blank lines;
// a value wrapped in matching quotes loses them.
func parseEnv(s string) (any, error) {
	out := map[string]any{}
	for i, raw := range strings.Split(s, "\n") {
		line := strings.TrimSpace(strings.TrimRight(raw, "\r"))
		if i == 0 {
			line = strings.TrimPrefix(line, "\ufeff")
		}
		if line == "" || line[0] == '#' {
			continue
		}
		if !utf8.ValidString(line) {
			return nil, &payloadError{Format: "env", Line: i + 1, Msg: "invalid UTF-8"}
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, &payloadError{Format: "env", Line: i + 1, Msg: "expected KEY=VALUE"}
		}
		key = strings.TrimSpace(key)
		if !envKeyRe.MatchString(key) {
			return nil, &payloadError{Format: "env", Line: i + 1, Msg: fmt.Sprintf("%q is not a variable name", key)}
		}
		if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
			value = value[1 : len(value)-1]
		}
		out[key] = value
	}
	return out, nil
}
