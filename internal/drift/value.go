package drift

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Value is one side of a FieldChange: a normalised JSON-like value (string,
// bool, int64, float64, nil, []any, map[string]any), a Masked secret, or
// absent (the zero Value).
//
// A Value built for a field of a Secret's data or stringData holds Masked
// and nothing else: the secret never enters the report, so no printer, %v,
// %#v or JSON encoding can show it.
type Value struct {
	data    any
	present bool
}

func plainValue(v any) Value { return Value{data: v, present: true} }

func maskedValue() Value { return Value{data: Masked{}, present: true} }

// Present reports whether the field exists on that side.
func (v Value) Present() bool { return v.present }

// IsZero reports whether the Value is absent (for encoding/json omitzero).
func (v Value) IsZero() bool { return !v.present }

// Masked reports whether the Value stands for a secret.
func (v Value) Masked() bool {
	_, ok := v.data.(Masked)
	return ok
}

// Data returns the normalised value (Masked{} for secrets, nil when absent
// or null). Maps and slices are shared with the report: do not modify them.
func (v Value) Data() any { return v.data }

// Multiline reports whether the Value is a string of more than one line.
func (v Value) Multiline() bool {
	s, ok := v.data.(string)
	return ok && strings.Contains(strings.TrimSuffix(s, "\n"), "\n")
}

// String renders the value as compact JSON ("(secret)" for secrets,
// "(absent)" when absent).
func (v Value) String() string {
	if !v.present {
		return "(absent)"
	}
	if m, ok := v.data.(Masked); ok {
		return m.String()
	}
	b, _ := v.MarshalJSON()
	return string(b)
}

// GoString is String: Values print the same under %#v.
func (v Value) GoString() string { return v.String() }

// MarshalJSON encodes the value itself; a Masked value encodes as
// "(secret)". An absent Value encodes as null (FieldChange omits it).
func (v Value) MarshalJSON() ([]byte, error) {
	if !v.present {
		return []byte("null"), nil
	}
	b, err := marshalCompact(v.data)
	if err != nil {
		// NaN or infinity from YAML (.nan, .inf): JSON has no such number.
		return marshalCompact(fmt.Sprint(v.data))
	}
	return b, nil
}

// UnmarshalJSON reads a value back from a report or a plan file: as it
// was written (numbers kept as written, so a re-encoding gives the same
// bytes); a masked secret comes back as the text "(secret)", never more.
func (v *Value) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var data any
	if err := dec.Decode(&data); err != nil {
		return err
	}
	*v = plainValue(data)
	return nil
}

// marshalCompact is json.Marshal without HTML escaping.
func marshalCompact(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Masked stands for a secret value. It holds nothing: whatever prints it,
// through any interface, prints "(secret)".
type Masked struct{}

const maskedText = "(secret)"

func (Masked) String() string                      { return maskedText }
func (Masked) GoString() string                    { return maskedText }
func (Masked) MarshalJSON() ([]byte, error)        { return []byte(`"` + maskedText + `"`), nil }
func (Masked) MarshalText() ([]byte, error)        { return []byte(maskedText), nil }
func (Masked) Format(f fmt.State, verb rune)       { _, _ = f.Write([]byte(maskedText)) }
func (Masked) MarshalYAML() (any, error)           { return maskedText, nil }
func (Masked) AppendText(b []byte) ([]byte, error) { return append(b, maskedText...), nil }
