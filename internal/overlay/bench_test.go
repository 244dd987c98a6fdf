package overlay

import (
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/secrets"

	"github.com/envctl/envctl/bench/gen"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// These benchmarks are also the workload behind cmd/envctl/default.pgo
// (hack/pgo.sh): the example environments, and one generated environment
// large enough that kustomize's name-reference work dominates, as it does
// in big real repositories.

var benchObjects = flag.Int("bench-objects", 2000, "objects in BenchmarkRenderGenerated's environment")

func BenchmarkRenderExamples(b *testing.B) {
	fsys := filesys.MakeFsOnDisk()
	for i := 0; i < b.N; i++ {
		for _, env := range []string{"dev", "staging", "prod"} {
			if _, err := Render(context.Background(), fsys, filepath.Join("..", "..", "environments", env), Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkRenderGenerated(b *testing.B) {
	dir := b.TempDir()
	if err := gen.Write(dir, gen.Spec{Envs: 1, Objects: *benchObjects}); err != nil {
		b.Fatal(err)
	}
	env := filepath.Join(dir, "environments", "env-00")
	fsys := filesys.MakeFsOnDisk()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Render(context.Background(), fsys, env, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderProdEncryptedVsPlaintext is the figure of issue 16: the
// example's prod, whose secret sources are SOPS files, against the same
// render from their plaintext (a copy with the files decrypted). Each
// iteration renders both, alternating which goes first, so both see the
// same machine; "ratio" is total encrypted time over total plaintext time.
// Keys are loaded once per process, as in envctl (a worker loads them once
// too).
func BenchmarkRenderProdEncryptedVsPlaintext(b *testing.B) {
	plain := b.TempDir()
	for _, top := range []string{"base", "components", "environments"} {
		err := filepath.WalkDir(filepath.Join("..", "..", top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			dst := filepath.Join(plain, rel)
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				return err
			}
			if data, err = secrets.Plaintext(p, data); err != nil {
				return err
			}
			return os.WriteFile(dst, data, 0o600)
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	fsys := filesys.MakeFsOnDisk()
	enc := filepath.Join("..", "..", "environments", "prod")
	pl := filepath.Join(plain, "environments", "prod")
	var tEnc, tPlain time.Duration
	render := func(dir string, acc *time.Duration, wantDecrypted bool) {
		start := time.Now()
		r, err := Render(context.Background(), fsys, dir, Options{})
		*acc += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if (len(r.Decrypted) > 0) != wantDecrypted {
			b.Fatalf("%s: decrypted %v", dir, r.Decrypted)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			render(enc, &tEnc, true)
			render(pl, &tPlain, false)
		} else {
			render(pl, &tPlain, false)
			render(enc, &tEnc, true)
		}
	}
	b.ReportMetric(float64(tEnc.Microseconds())/float64(b.N)/1000, "ms-encrypted/op")
	b.ReportMetric(float64(tPlain.Microseconds())/float64(b.N)/1000, "ms-plaintext/op")
	b.ReportMetric(float64(tEnc)/float64(tPlain), "ratio")
}
