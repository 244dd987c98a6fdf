// Package tools finds and builds what the benchmarks run: envctl from
// this checkout, the kustomize CLI and kubectl.
package tools

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
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

// Must stops the benchmark on an error.
func Must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Result is one command run.
type Result struct {
	Wall time.Duration
	Code int
	Out  string
	// MaxRSS is the command's peak resident set, KiB.
	MaxRSS int64
}

// Run runs name in dir with env added to the environment and returns its
// wall time, exit code, stdout and peak memory. An exit code above maxOK
// (kubectl diff exits 1 for "differences") stops the benchmark with the
// command's stderr.
func Run(dir string, env []string, maxOK int, name string, args ...string) Result {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	peak, err := Measure(cmd)
	Must(err)
	start := time.Now()
	err = cmd.Run()
	r := Result{Wall: time.Since(start), Out: out.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		Must(fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err))
	}
	if r.Code > maxOK {
		Must(fmt.Errorf("%s %s exited %d: %s", name, strings.Join(args, " "), r.Code, errb.String()))
	}
	p, err := peak()
	Must(err)
	r.MaxRSS = p.RSS
	return r
}
