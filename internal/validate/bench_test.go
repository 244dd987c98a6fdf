package validate

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// benchStream is the rendered example environments' objects replicated
// to n under new names, after the example's CRDs and the CEL corpus (five CRDs with rules and
// their custom resources, valid and invalid): what `validate -f` meets in
// a pipeline. It profiles validation for hack/pgo.sh; bench/validate is
// the head-to-head with kubeconform.
func benchStream(b *testing.B, n int) []byte {
	var buf bytes.Buffer
	cel, _ := filepath.Glob("testdata/corpus/cel/*.yaml")
	crds, _ := filepath.Glob("../../crds/*.yaml") // the example's ServiceMonitor
	cel = append(crds, cel...)
	for _, f := range cel {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		buf.Write(data)
		buf.WriteString("\n---\n")
	}
	golden, _ := filepath.Glob("../../cmd/envctl/testdata/golden/*.yaml")
	var docs [][]byte
	for _, f := range golden {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		for _, d := range splitDocuments(data) {
			docs = append(docs, d.Data)
		}
	}
	if len(docs) == 0 {
		b.Fatal("no rendered examples")
	}
	name := regexp.MustCompile(`(?m)^  name: (\S+)$`)
	for i := 0; i < n; i++ {
		d := name.ReplaceAll(docs[i%len(docs)], fmt.Appendf(nil, "  name: ${1}-%d", i))
		buf.Write(d)
		buf.WriteString("---\n")
	}
	return buf.Bytes()
}

func BenchmarkValidate(b *testing.B) {
	data := benchStream(b, 2000)
	v, err := New(Options{Strict: true}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rep, err := v.Validate(context.Background(), []Input{{Streams: []Stream{{Name: "bench.yaml", Data: data}}}})
		if err != nil {
			b.Fatal(err)
		}
		if c := rep.Count(nil); c.Errors > 0 || c.Invalid == 0 {
			b.Fatalf("%+v: want the CEL corpus's invalid resources and no errors", c)
		}
	}
}
