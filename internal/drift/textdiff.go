package drift

import (
	"fmt"
	"strings"

	"github.com/sergi/go-diff/diffmatchpatch"
)

type diffLine struct {
	op   diffmatchpatch.Operation
	text string // without its newline
	eol  bool   // the line ends with a newline
}

// unifiedDiff returns the hunks of a unified diff from a to b with three
// lines of context, line-based (go-diff in line mode, no time limit, so the
// result is deterministic).
func unifiedDiff(a, b string) string {
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = 0
	ra, rb, lines := dmp.DiffLinesToRunes(a, b)
	diffs := dmp.DiffCharsToLines(dmp.DiffMainRunes(ra, rb, false), lines)

	var all []diffLine
	for _, d := range diffs {
		text := d.Text
		for text != "" {
			line, rest, found := strings.Cut(text, "\n")
			all = append(all, diffLine{op: d.Type, text: line, eol: found})
			text = rest
		}
	}

	const context = 3
	var out strings.Builder
	for i := 0; i < len(all); {
		if all[i].op == diffmatchpatch.DiffEqual {
			i++
			continue
		}
		// A hunk: from context lines before the first change to context
		// lines after the last change that is at most 2*context away.
		start := max(0, i-context)
		end := i
		for j := i; j < len(all); j++ {
			if all[j].op != diffmatchpatch.DiffEqual {
				end = j
				continue
			}
			if j-end > 2*context {
				break
			}
		}
		stop := min(len(all), end+context+1)
		writeHunk(&out, all, start, stop)
		i = stop
	}
	return out.String()
}

func writeHunk(out *strings.Builder, all []diffLine, start, stop int) {
	// Line numbers: count lines of each side before start.
	aLine, bLine := 1, 1
	for _, l := range all[:start] {
		if l.op != diffmatchpatch.DiffInsert {
			aLine++
		}
		if l.op != diffmatchpatch.DiffDelete {
			bLine++
		}
	}
	aLen, bLen := 0, 0
	for _, l := range all[start:stop] {
		if l.op != diffmatchpatch.DiffInsert {
			aLen++
		}
		if l.op != diffmatchpatch.DiffDelete {
			bLen++
		}
	}
	fmt.Fprintf(out, "@@ -%s +%s @@\n", hunkRange(aLine, aLen), hunkRange(bLine, bLen))
	for _, l := range all[start:stop] {
		switch l.op {
		case diffmatchpatch.DiffEqual:
			out.WriteByte(' ')
		case diffmatchpatch.DiffDelete:
			out.WriteByte('-')
		case diffmatchpatch.DiffInsert:
			out.WriteByte('+')
		}
		out.WriteString(l.text)
		out.WriteByte('\n')
		if !l.eol {
			out.WriteString("\\ No newline at end of file\n")
		}
	}
}

func hunkRange(line, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", line-1)
	case 1:
		return fmt.Sprint(line)
	}
	return fmt.Sprintf("%d,%d", line, n)
}
