package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/envctl/envctl/internal/cli"
	"github.com/envctl/envctl/internal/testtools"
)

var update = flag.Bool("update", false, "rewrite golden files")

var exampleEnvs = []string{"dev", "staging", "prod"}

func buildInProcess(t *testing.T, args ...string) []byte {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Run(args, cli.IOStreams{In: bytes.NewReader(nil), Out: &out, ErrOut: &errOut})
	if code != 0 {
		t.Fatalf("envctl %v exited %d: %s", args, code, errOut.String())
	}
	if errOut.Len() > 0 {
		t.Errorf("envctl %v printed to stderr: %s", args, errOut.String())
	}
	return out.Bytes()
}

// TestExampleEnvironmentsMatchGoldenFiles pins the rendered example
// repository. Regenerate with `go test ./cmd/envctl -run Golden -update` and
// review the diff: it is exactly what a deploy of that commit would change.
func TestExampleEnvironmentsMatchGoldenFiles(t *testing.T) {
	root, _ := filepath.Abs("../..")
	for _, env := range exampleEnvs {
		t.Run(env, func(t *testing.T) {
			got := buildInProcess(t, "build", env, "--repo", root, "--no-cache")
			golden := filepath.Join("testdata", "golden", env+".yaml")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("envctl build %s differs from %s; rerun with -update and review the diff", env, golden)
			}
		})
	}
}

// TestExampleEnvironmentsMatchKustomizeCLI: the promise that envctl build
// is byte-identical to kustomize build, on the example repository. The
// kustomize CLI cannot read SOPS files, so it renders a copy whose
// encrypted sources are decrypted: envctl on the encrypted files must give
// the bytes kustomize gives on their plaintext (the same Secret hashes).
func TestExampleEnvironmentsMatchKustomizeCLI(t *testing.T) {
	kustomize := testtools.Kustomize(t)
	root, _ := filepath.Abs("../..")
	plain := exampleCopy(t, root)
	decryptAll(t, plain)
	for _, env := range exampleEnvs {
		t.Run(env, func(t *testing.T) {
			want, err := exec.Command(kustomize, "build", filepath.Join(plain, "environments", env)).Output()
			if err != nil {
				t.Fatal(err)
			}
			got := buildInProcess(t, "build", env, "--repo", root, "--no-cache")
			if !bytes.Equal(got, want) {
				t.Errorf("envctl build %s differs from kustomize build", env)
			}
		})
	}
}
