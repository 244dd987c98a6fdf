package overlay

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

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
