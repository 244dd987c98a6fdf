// Package yamlguard bounds what a YAML input may cost before any parser
// that expands it sees it: its size, and the nodes its aliases stand for.
//
// YAML aliases let 500 bytes stand for 10^8 nodes ("billion laughs").
// Parsers that build a node tree (yaml.v3, kyaml) keep an alias as one
// node, but everything downstream that walks values (kyaml's filters,
// drift's comparison, JSON conversion, kustomize) expands it, and then
// runs for minutes or exhausts memory. Check counts the nodes of every
// document as an expanding reader would see them, in time linear in the
// input, and refuses one whose aliases stand for more than they may.
package yamlguard

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	yaml3 "go.yaml.in/yaml/v3"
)

// DefaultMaxBytes is the size limit of one input envctl reads for -f and
// --live: far above any real manifest stream, low enough that a mistaken
// or hostile input fails at once instead of exhausting memory.
const DefaultMaxBytes int64 = 256 << 20

// MinAliasBudget is how many nodes aliases may add to any document,
// however small: YAML written by hand reuses anchors (`<<: *defaults`)
// a few hundred times, never a hundred thousand.
const MinAliasBudget = 100_000

// AliasError is a document whose aliases stand for too many nodes.
type AliasError struct {
	// Line (1-based, in the stream) is where the expansion passes the
	// limit: the innermost node that stands for too many nodes.
	Line int
	// Literal is how many nodes the document spells out; Limit how many
	// nodes, aliases expanded, it may have.
	Literal, Limit int64
}

func (e *AliasError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Problem())
}

// Problem is the message without the line, for errors that print the
// line their own way (FILE:LINE: ...).
func (e *AliasError) Problem() string {
	return fmt.Sprintf("YAML aliases expand to more than %d nodes from %d written (an alias bomb?); refused", e.Limit, e.Literal)
}

// SizeError is an input over the size limit.
type SizeError struct {
	Size  int64 // -1 when unknown (a stream that was cut off)
	Limit int64
}

func (e *SizeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("input is larger than the %s limit (raise it with --max-input-size)", FormatSize(e.Limit))
	}
	return fmt.Sprintf("input is %s, larger than the %s limit (raise it with --max-input-size)", FormatSize(e.Size), FormatSize(e.Limit))
}

// FormatSize prints a byte count as a user types it back into
// --max-input-size.
func FormatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// Check returns an *AliasError when a document of the YAML stream data
// has aliases that stand for more nodes than the document spells out
// plus max(that number, MinAliasBudget). A document that does not parse
// is left to the caller's parser, which says why.
func Check(data []byte) error {
	// An alias needs a '*' and an anchor a '&'; without both, every node
	// is written out and the count is bounded by the size. This keeps the
	// guard off the path of the rendered streams envctl reads most.
	if bytes.IndexByte(data, '*') < 0 || bytes.IndexByte(data, '&') < 0 {
		return nil
	}
	for _, d := range splitDocuments(data) {
		// Anchors are per document, so the same holds per document: one
		// CRD with a CEL rule `a && b` in a stream of ten thousand
		// objects must not cost a node tree of all of them.
		if bytes.IndexByte(d.data, '*') < 0 || bytes.IndexByte(d.data, '&') < 0 {
			continue
		}
		var root yaml3.Node
		// A yaml.Node keeps each alias as one node pointing at its
		// anchor, so decoding costs what the bytes do.
		if yaml3.Unmarshal(d.data, &root) != nil {
			continue
		}
		if m := measure(&root); m.expanded > m.limit {
			return &AliasError{Line: d.line + m.line - 1, Literal: m.literal, Limit: m.limit}
		}
	}
	return nil
}

// measurement is how many nodes a document spells out (literal), how
// many it stands for with aliases expanded (expanded, limit+1 when more
// than limit), and where in the document it passes the limit (line).
type measurement struct {
	literal, expanded, limit int64
	line                     int
}

func measure(root *yaml3.Node) measurement {
	literal := countLiteral(root)
	limit := literal + max(literal, MinAliasBudget)
	c := counter{limit: limit, memo: map[*yaml3.Node]int64{}}
	expanded := c.expanded(root)
	return measurement{literal: literal, expanded: expanded, limit: limit, line: c.line}
}

// countLiteral counts the nodes of a tree as written: an alias is one.
func countLiteral(n *yaml3.Node) int64 {
	total := int64(1)
	for _, c := range n.Content {
		total += countLiteral(c)
	}
	return total
}

// counter counts nodes with aliases expanded. Each node's count is kept,
// so a chain of aliases of aliases costs one visit per node, and every
// sum stops at limit+1 so that nothing overflows.
type counter struct {
	limit int64
	memo  map[*yaml3.Node]int64
	line  int // of the first node found to stand for more than limit
}

func (c *counter) expanded(n *yaml3.Node) int64 {
	if n.Kind == yaml3.AliasNode {
		if n.Alias == nil {
			return 1
		}
		return c.expanded(n.Alias)
	}
	if v, ok := c.memo[n]; ok {
		return v
	}
	// A node under construction counts as over the limit: an anchor
	// that contains its own alias (yaml.v3 accepts `&a [*a]`) expands
	// forever.
	c.memo[n] = c.limit + 1
	total := int64(1)
	for _, ch := range n.Content {
		total += c.expanded(ch)
		if total > c.limit {
			total = c.limit + 1
			if c.line == 0 {
				c.line = n.Line
			}
			break
		}
	}
	c.memo[n] = total
	return total
}

type document struct {
	line int
	data []byte
}

// splitDocuments cuts a stream at its "---" lines, so that a document
// that does not parse does not hide the ones after it (validate parses
// each document on its own).
func splitDocuments(data []byte) []document {
	var docs []document
	start, startLine, line := 0, 1, 1
	for i := 0; i < len(data); line++ {
		next := len(data)
		if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
			next = i + j + 1
		}
		l := data[i:next]
		if bytes.HasPrefix(l, []byte("---")) && (len(l) == 3 || l[3] == ' ' || l[3] == '\t' || l[3] == '\n' || l[3] == '\r') {
			docs = append(docs, document{startLine, data[start:i]})
			start, startLine = i, line
		}
		i = next
	}
	return append(docs, document{startLine, data[start:]})
}

// ReadAll reads r up to limit bytes and fails with a *SizeError beyond.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	var b []byte
	// A file says its size: reading into a buffer of that size, not
	// io.ReadAll's doubling one, keeps a 10 MB input from costing 23 MB
	// of allocations and a heap goal sized for them.
	if s, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if st, err := s.Stat(); err == nil && st.Mode().IsRegular() && st.Size() <= limit {
			b = make([]byte, 0, st.Size()+1) // +1: EOF is seen without growing
		}
	}
	b, err := readInto(b, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &SizeError{Size: -1, Limit: limit}
	}
	return b, nil
}

// readInto appends r's bytes to b up to EOF, growing b only when full.
func readInto(b []byte, r io.Reader) ([]byte, error) {
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// ReadFile reads a file of at most limit bytes; a larger one fails with a
// *SizeError before it is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > limit {
		return nil, &SizeError{Size: st.Size(), Limit: limit}
	}
	return ReadAll(f, limit)
}

// Read is ReadFile then Check: the bytes of a YAML file that is safe to
// parse.
func Read(path string, limit int64) ([]byte, error) {
	b, err := ReadFile(path, limit)
	if err != nil {
		return nil, err
	}
	if err := Check(b); err != nil {
		return nil, err
	}
	return b, nil
}

// IsRefusal reports whether err is the guard refusing an input (too large,
// or an alias bomb), as opposed to an I/O error.
func IsRefusal(err error) bool {
	var a *AliasError
	var s *SizeError
	return errors.As(err, &a) || errors.As(err, &s)
}
