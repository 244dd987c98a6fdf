package report

import "strings"

// MarkdownCode renders s as an inline code span, whatever backticks it
// holds (CommonMark: a fence longer than any run inside, padded with
// spaces when s starts or ends with one).
func MarkdownCode(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || longest > 0 {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}
