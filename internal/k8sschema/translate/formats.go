package translate

import "time"

// Formats are the format checkers to register with a validator (for
// github.com/santhosh-tekuri/jsonschema/v5: Compiler.Formats, with
// AssertFormat) so that it judges the formats the translated schemas keep
// as the API server does. "date-time" is metav1.Time's parse
// (time.Parse with time.RFC3339), which differs from JSON Schema's
// RFC 3339 check in small ways: it rejects a lower-case 't' or 'z' and a
// leap second, and accepts a ',' before the fraction.
var Formats = map[string]func(any) bool{
	"date-time": isGoRFC3339,
}

func isGoRFC3339(v any) bool {
	s, ok := v.(string)
	if !ok {
		return true // formats constrain strings only
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
