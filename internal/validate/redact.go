package validate

import (
	"fmt"
	"regexp"
	"strings"
)

// Messages that name no value, kept as they are for Secrets.
var safeMessages = []*regexp.Regexp{
	regexp.MustCompile(`^expected [a-z]+(?:(?:, | or )[a-z]+)*, but got [a-z]+$`),
	regexp.MustCompile(`^unknown field "[^"]*"$`),
	regexp.MustCompile(`^required field "[^"]*" is missing$`),
	regexp.MustCompile(`^duplicate field "[^"]*"$`),
	regexp.MustCompile(`^key "[^"]*" is missing \(contract [^)]*\)$`),
	regexp.MustCompile(`^invalid base64 data$`),
	regexp.MustCompile(`^invalid quantity \(expected e\.g\. 250m, 1\.5, 512Mi, 2G\)$`),
	regexp.MustCompile(`^invalid time \(expected RFC 3339[^)]*\)$`),
	regexp.MustCompile(`^(?:minimum|maximum) \d+ (?:items|properties) (?:required|allowed)`),
}

var (
	boundRe  = regexp.MustCompile(`^must be ([<>]=?) (\S+) but found `)
	lengthRe = regexp.MustCompile(`^length must be ([<>]=?) (\d+), but got \d+$`)
	formatRe = regexp.MustCompile(`is not valid '([^']*)'$`)
)

// redactMessage rewrites a problem found in a Secret so that it says
// which constraint failed without the value. jsonschema's messages quote
// the value for some keywords (format, bounds, multipleOf, const and enum
// show the expected values, which come from the schema and are kept) and
// parse errors of payloads can quote a character of it; everything not
// known to be free of values is replaced by a message built from the
// keyword alone.
func redactMessage(p Problem) string {
	msg := p.Message
	for _, re := range safeMessages {
		if re.MatchString(msg) {
			return msg
		}
	}
	if p.Rule == RuleContractPayload {
		return redactPayload(msg)
	}
	switch p.keyword {
	case "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum":
		if m := boundRe.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("must be %s %s (value hidden: Secret)", m[1], m[2])
		}
	case "minLength", "maxLength":
		if m := lengthRe.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("length must be %s %s (value hidden: Secret)", m[1], m[2])
		}
	case "format":
		if m := formatRe.FindStringSubmatch(msg); m != nil {
			return fmt.Sprintf("is not a valid %s (value hidden: Secret)", m[1])
		}
	case "pattern":
		if strings.HasPrefix(msg, "does not match pattern ") {
			return msg + " (value hidden: Secret)"
		}
	case "enum", "const":
		if strings.HasPrefix(msg, "value must be ") {
			return msg + " (value hidden: Secret)"
		}
	case "required", "additionalProperties", "type", "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems":
		if !strings.ContainsAny(msg, "\"'`") {
			return msg
		}
	}
	kw := p.keyword
	if kw == "" {
		kw = "schema"
	}
	return fmt.Sprintf("fails the %q constraint (value hidden: Secret)", kw)
}

// redactPayload keeps where a payload stops parsing, not why: the reason
// quotes the text around it.
func redactPayload(msg string) string {
	head, _, _ := strings.Cut(msg, ": ")
	return head + " (details hidden: Secret)"
}
