// Package testtools finds the peer tools that envctl's tests compare
// against (the kustomize CLI, kubeconform). In CI a missing tool fails the
// test; on a laptop it skips with the command that installs it.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KustomizeVersion is the kustomize CLI release that uses the same
// sigs.k8s.io/kustomize/api as envctl, so their output must match byte for byte.
const KustomizeVersion = "v5.8.2"

// Kustomize returns the path of the kustomize CLI at KustomizeVersion.
func Kustomize(tb testing.TB) string {
	tb.Helper()
	install := "go install sigs.k8s.io/kustomize/kustomize/v5@" + KustomizeVersion
	path := find("ENVCTL_KUSTOMIZE", "kustomize")
	if path == "" {
		missing(tb, "the kustomize CLI is not installed; run: "+install)
		return ""
	}
	out, err := exec.Command(path, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != KustomizeVersion {
		missing(tb, "kustomize at "+path+" is "+strings.TrimSpace(string(out))+", want "+KustomizeVersion+"; run: "+install)
		return ""
	}
	return path
}

// KubeconformVersion is the kubeconform release envctl validate is
// compared with.
const KubeconformVersion = "v0.8.0"

// Kubeconform returns the path of kubeconform at KubeconformVersion
// ($ENVCTL_KUBECONFORM, else GOBIN / GOPATH/bin, else PATH).
func Kubeconform(tb testing.TB) string {
	tb.Helper()
	install := "go install github.com/yannh/kubeconform/cmd/kubeconform@" + KubeconformVersion
	path := find("ENVCTL_KUBECONFORM", "kubeconform")
	if path == "" {
		missing(tb, "kubeconform is not installed; run: "+install)
		return ""
	}
	// A release binary prints its version; one built by go install
	// prints "development" and carries its module version instead.
	out, _ := exec.Command(path, "-v").Output()
	v := strings.TrimSpace(string(out))
	if v != KubeconformVersion {
		mod, _ := exec.Command("go", "version", "-m", path).Output()
		if !strings.Contains(string(mod), "github.com/yannh/kubeconform\t"+KubeconformVersion) {
			missing(tb, "kubeconform at "+path+" is "+v+", want "+KubeconformVersion+"; run: "+install)
			return ""
		}
	}
	return path
}

// find looks in $env, then $GOBIN / $GOPATH/bin (where go install puts
// tools), then PATH.
func find(env, name string) string {
	if p := os.Getenv(env); p != "" {
		return p
	}
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(out))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// InCI reports whether the tests run in CI, where nothing may be skipped.
func InCI() bool { return os.Getenv("CI") != "" }

func missing(tb testing.TB, msg string) {
	tb.Helper()
	if InCI() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// ExampleAgeKeysFile is the example repository's age keys, relative to the
// repository root: public test keys (see README.md, "Secrets").
const ExampleAgeKeysFile = "example-keys/age-keys.txt"

// UseExampleAgeKeys puts the example's age keys in SOPS_AGE_KEY for the
// rest of the process, so that renders of its staging and prod decrypt.
// It goes through the variable rather than SOPS_AGE_KEY_FILE: the file, as
// git checks it out, is readable by others, which envctl warns about, and
// tests assert that a clean render prints nothing on stderr. root is the
// repository root. Call it from TestMain: keys are loaded once per process.
// Where the file is not found (a testscript's envctl subprocess, which
// runs TestMain in its work directory and gets the keys from the script's
// environment) it does nothing.
func UseExampleAgeKeys(root string) {
	b, err := os.ReadFile(filepath.Join(root, ExampleAgeKeysFile))
	if err != nil {
		return
	}
	os.Setenv("SOPS_AGE_KEY", string(b))
	os.Unsetenv("SOPS_AGE_KEY_FILE")
	os.Unsetenv("SOPS_AGE_KEY_CMD")
}

// SopsVersion is the sops CLI release envctl's SOPS files are checked
// against, both ways (it is also the format version envctl writes).
const SopsVersion = "v3.13.2"

// Sops returns the path of the sops CLI at SopsVersion ($ENVCTL_SOPS, else
// GOBIN / GOPATH/bin, else PATH).
func Sops(tb testing.TB) string {
	tb.Helper()
	install := "go install github.com/getsops/sops/v3/cmd/sops@" + SopsVersion
	path := find("ENVCTL_SOPS", "sops")
	if path == "" {
		missing(tb, "the sops CLI is not installed; run: "+install)
		return ""
	}
	out, _ := exec.Command(path, "--version", "--disable-version-check").Output()
	if !strings.Contains(string(out), strings.TrimPrefix(SopsVersion, "v")) {
		missing(tb, "sops at "+path+" is not "+SopsVersion+"; run: "+install)
		return ""
	}
	return path
}

// SSHKeygen returns the path of OpenSSH's ssh-keygen (Debian package
// openssh-client), against which envctl's SSH signatures are checked both
// ways.
func SSHKeygen(tb testing.TB) string {
	tb.Helper()
	path, err := exec.LookPath("ssh-keygen")
	if err != nil {
		missing(tb, "ssh-keygen is not installed; run: apt-get install openssh-client")
	}
	return path
}
