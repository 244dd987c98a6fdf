package yamlguard

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	yaml3 "go.yaml.in/yaml/v3"
)

// bomb is a ConfigMap whose data holds levels nested lists of ten
// aliases each: 10^levels scalars from a few hundred bytes.
func bomb(levels int) []byte {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n")
	for i := 1; i <= levels; i++ {
		p := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "  a%d: &a%d [%s]\n", i, i, strings.Repeat(p+",", 9)+p)
	}
	return []byte(b.String())
}

func TestCheckRefusesAnAliasBomb(t *testing.T) {
	data := bomb(8) // 10^9 scalars
	if len(data) > 600 {
		t.Fatalf("the bomb is %d bytes; the issue's is 562", len(data))
	}
	err := Check(data)
	var ae *AliasError
	if !errors.As(err, &ae) {
		t.Fatalf("Check = %v, want an *AliasError", err)
	}
	// Line 10 holds a4, the first list that stands for more than the
	// limit (10^5 scalars and their lists).
	if ae.Line != 10 {
		t.Errorf("error at line %d, want 10", ae.Line)
	}
	if !strings.Contains(err.Error(), "alias bomb") {
		t.Errorf("message %q does not say what it refused", err)
	}
}

// The per-document prefilter must not skip a bomb whose document follows
// others holding only one of '*' and '&' (a CEL rule's "a && b", a
// wildcard host).
func TestCheckFindsABombAfterDocumentsWithOnlyOneMarker(t *testing.T) {
	stream := "rule: self.a && self.b\n---\nhost: '*.example.com'\n---\n" + string(bomb(8))
	var ae *AliasError
	if err := Check([]byte(stream)); !errors.As(err, &ae) {
		t.Fatalf("Check = %v, want an *AliasError", err)
	}
	if ae.Line != 14 {
		t.Errorf("error at line %d, want 14 (line 10 of the third document)", ae.Line)
	}
}

// The guard's own work is bounded by the nodes written, not the nodes
// they stand for: each node is counted once whatever aliases point at it.
// This is what keeps a refusal well under a second, tested without a clock.
func TestMeasureVisitsEachWrittenNodeOnce(t *testing.T) {
	var root yaml3.Node
	if err := yaml3.Unmarshal(bomb(8), &root); err != nil {
		t.Fatal(err)
	}
	literal := countLiteral(&root)
	c := counter{limit: 1 << 62, memo: map[*yaml3.Node]int64{}}
	got := c.expanded(&root)
	if got < 1e9 {
		t.Errorf("expanded = %d, want at least 10^9", got)
	}
	if int64(len(c.memo)) > literal {
		t.Errorf("counted %d nodes for a document of %d written nodes", len(c.memo), literal)
	}
}

func TestCheckAcceptsOrdinaryAnchors(t *testing.T) {
	var b strings.Builder
	b.WriteString("defaults: &defaults\n  cpu: 100m\n  memory: 128Mi\n  labels: {a: b, c: d}\nitems:\n")
	for i := range 500 {
		fmt.Fprintf(&b, "  - name: item-%d\n    <<: *defaults\n", i)
	}
	b.WriteString("---\n# cron and URLs carry * and & too\nschedule: \"*/5 * * * *\"\nurl: http://x/?a=1&b=2\n")
	if err := Check([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
}

func TestCheckLooksPastADocumentThatDoesNotParse(t *testing.T) {
	data := append([]byte("a: [unclosed\n---\n"), bomb(7)...)
	var ae *AliasError
	if err := Check(data); !errors.As(err, &ae) || ae.Line != 12 {
		t.Fatalf("Check = %v, want an *AliasError at line 12 (a4)", err)
	}
}

func TestCheckIgnoresWhatDoesNotParse(t *testing.T) {
	for _, in := range []string{"*", "&", "a: *b\n", "key: [\n&x *y"} {
		if err := Check([]byte(in)); err != nil {
			t.Errorf("Check(%q) = %v, want nil (the caller's parser reports it)", in, err)
		}
	}
}

// yaml.v3 builds a node tree for an anchor that contains its own alias;
// anything that expands it loops forever.
func TestCheckRefusesAnAnchorThatContainsItself(t *testing.T) {
	if err := Check([]byte("&a [*a]\n")); !IsRefusal(err) {
		t.Fatalf("Check = %v, want a refusal", err)
	}
}

func TestReadAllStopsAtTheLimit(t *testing.T) {
	if _, err := ReadAll(bytes.NewReader(make([]byte, 11)), 10); !IsRefusal(err) {
		t.Errorf("11 bytes with a limit of 10: %v, want a *SizeError", err)
	}
	b, err := ReadAll(bytes.NewReader(make([]byte, 10)), 10)
	if err != nil || len(b) != 10 {
		t.Errorf("10 bytes with a limit of 10: %d bytes, %v", len(b), err)
	}
}

// A file is read whole into a buffer of its size (rewritten larger after
// it was opened: Stat sees the new size), and one over the limit is
// refused.
func TestReadAllOfAFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f.yaml")
	want := bytes.Repeat([]byte("a: b\n"), 1000)
	if err := os.WriteFile(p, want, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.WriteFile(p, append(want, "c: d\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := ReadAll(f, 0)
	if err != nil || string(got) != string(want)+"c: d\n" {
		t.Fatalf("ReadAll = %d bytes, %v; want %d", len(got), err, len(want)+5)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(f, int64(len(want))); !IsRefusal(err) {
		t.Errorf("a file larger than the limit: %v, want a *SizeError", err)
	}
}

func TestReadFileRefusesALargeFileBeforeReading(t *testing.T) {
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, make([]byte, 2048), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ReadFile(p, 1024)
	var se *SizeError
	if !errors.As(err, &se) || se.Size != 2048 {
		t.Fatalf("ReadFile = %v, want a *SizeError of 2048 bytes", err)
	}
	if want := "input is 2KiB, larger than the 1KiB limit (raise it with --max-input-size)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

func TestRead(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bomb.yaml")
	if err := os.WriteFile(p, bomb(8), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(p, 0); !IsRefusal(err) {
		t.Fatalf("Read = %v, want a refusal", err)
	}
}

// FuzzCheck holds Check to what it promises: it returns (never panics,
// never runs away) on any input, and what it accepts really does expand
// to no more than its limit, counted the slow way, by expanding.
func FuzzCheck(f *testing.F) {
	f.Add(bomb(3))
	f.Add([]byte("a: &a [1, 2]\nb: *a\nc: {<<: *a}\n---\nd: *a\n"))
	f.Add([]byte("x: &x\n  y: &y [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		if Check(data) != nil {
			return
		}
		for _, d := range splitDocuments(data) {
			var root yaml3.Node
			if yaml3.Unmarshal(d.data, &root) != nil {
				continue
			}
			limit := measure(&root).limit
			if n := expandSlowly(&root, limit+1, map[*yaml3.Node]bool{}); n > limit {
				t.Fatalf("Check accepted a document that expands past %d nodes:\n%s", limit, d.data)
			}
		}
	})
}

// expandSlowly counts nodes by walking every alias, as a naive reader
// would, stopping at stop.
func expandSlowly(n *yaml3.Node, stop int64, open map[*yaml3.Node]bool) int64 {
	if n.Kind == yaml3.AliasNode && n.Alias != nil {
		if open[n.Alias] {
			return stop
		}
		return expandSlowly(n.Alias, stop, open)
	}
	open[n] = true
	defer delete(open, n)
	total := int64(1)
	for _, c := range n.Content {
		total += expandSlowly(c, stop-total, open)
		if total >= stop {
			return stop
		}
	}
	return total
}
