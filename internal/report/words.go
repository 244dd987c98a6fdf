package report

import (
	"fmt"
	"strings"
)

// Plural is n and the word that agrees with it: "1 object", "3 objects",
// "1 object is", "2 objects are".
func Plural(n int, one, many string) string {
	return fmt.Sprintf("%d %s", n, noun(n, one, many))
}

// PluralGrouped is Plural with n's digits grouped: "8,431 objects". Both
// exist because drift's reports have always grouped digits and validate's
// never have, and a report's numbers keep their format for the scripts
// that read them.
func PluralGrouped(n int, one, many string) string {
	return GroupDigits(n) + " " + noun(n, one, many)
}

func noun(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// GroupDigits writes n with thousands separators: 8,431.
func GroupDigits(n int) string {
	if n < 0 {
		return "-" + GroupDigits(-n)
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
