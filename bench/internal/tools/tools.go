// Package tools finds and builds what the benchmarks run: envctl from
// this checkout, the kustomize CLI and kubectl.
package tools

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildEnvctl builds ./cmd/envctl (as go build does: with the profile)
// into dir and returns its path.
func BuildEnvctl(dir string) (string, error) {
	bin := filepath.Join(dir, "envctl")
	b := exec.Command("go", "build", "-o", bin, "./cmd/envctl")
	b.Stderr = os.Stderr
	return bin, b.Run()
}

// Kustomize is $ENVCTL_KUSTOMIZE, else kustomize in $GOPATH/bin.
func Kustomize() string {
	if k := os.Getenv("ENVCTL_KUSTOMIZE"); k != "" {
		return k
	}
	out, _ := exec.Command("go", "env", "GOPATH").Output()
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "kustomize")
}

// KubectlVersion is kubectl's client version, for the report.
func KubectlVersion(kubectl string) string {
	out, _ := exec.Command(kubectl, "version", "--client", "-o", "json").Output()
	var v struct{ ClientVersion struct{ GitVersion string } }
	_ = json.Unmarshal(out, &v)
	return v.ClientVersion.GitVersion
}
