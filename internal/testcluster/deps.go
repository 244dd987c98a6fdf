package testcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// KubeAPIServerVersion is the kube-apiserver release the tests run against. It
// must match `require k8s.io/kubernetes` in hack/kube-apiserver/go.mod (a test
// checks this), because it names the binary that hack/build-kube-apiserver.sh
// caches.
const KubeAPIServerVersion = "v1.37.2"

// Environment variables read by this package.
const (
	EnvKubeAPIServer = "ENVCTL_KUBE_APISERVER" // path of kube-apiserver
	EnvEtcd          = "ENVCTL_ETCD"           // path of etcd
	EnvKubectl       = "ENVCTL_KUBECTL"        // path of kubectl
	EnvTestBin       = "ENVCTL_TEST_BIN"       // cache dir of built binaries
	EnvKeep          = "ENVCTL_TESTCLUSTER_KEEP"
)

// MissingDependencyError says that a binary the cluster needs is not there,
// and how to get it.
type MissingDependencyError struct {
	What string // "kube-apiserver", "etcd" or "kubectl"
	Path string // where it was looked for
	Fix  string // a command that installs it
}

func (e *MissingDependencyError) Error() string {
	return fmt.Sprintf("%s not found (%s); fix: %s", e.What, e.Path, e.Fix)
}

// InCI reports whether the CI environment variable is set (to anything but
// "", "0" or "false"). In CI a missing dependency fails tests instead of
// skipping them.
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v != "" && v != "0" && v != "false"
}

// skipOrFatal skips tb when err is a missing dependency and CI is not set;
// any other error, or any error in CI, fails tb.
func skipOrFatal(tb testing.TB, err error) {
	tb.Helper()
	var md *MissingDependencyError
	switch {
	case errors.As(err, &md) && !InCI():
		tb.Skipf("testcluster: skipping, %v (or set %s); set CI=true to make this a failure", err, envFor(md.What))
	case errors.As(err, &md):
		tb.Fatalf("testcluster: %v (CI is set, so a missing dependency is a failure; `bash hack/ci-deps.sh` installs etcd and kube-apiserver)", err)
	default:
		tb.Fatalf("testcluster: %v", err)
	}
}

func envFor(what string) string {
	switch what {
	case "kube-apiserver":
		return EnvKubeAPIServer
	case "etcd":
		return EnvEtcd
	default:
		return EnvKubectl
	}
}

// BinDir is the directory hack/build-kube-apiserver.sh caches binaries in:
// $ENVCTL_TEST_BIN, else ${XDG_CACHE_HOME:-$HOME/.cache}/envctl-test.
func BinDir() string {
	if d := os.Getenv(EnvTestBin); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "envctl-test")
}

// KubeAPIServerPath finds kube-apiserver: $ENVCTL_KUBE_APISERVER, else
// BinDir()/kube-apiserver-<KubeAPIServerVersion>.
func KubeAPIServerPath() (string, error) {
	if p := os.Getenv(EnvKubeAPIServer); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", &MissingDependencyError{What: "kube-apiserver", Path: "$" + EnvKubeAPIServer + "=" + p,
			Fix: "unset " + EnvKubeAPIServer + " or point it at a kube-apiserver binary"}
	}
	p := filepath.Join(BinDir(), "kube-apiserver-"+KubeAPIServerVersion)
	if isExecutable(p) {
		return p, nil
	}
	return "", &MissingDependencyError{What: "kube-apiserver", Path: p,
		Fix: "bash hack/build-kube-apiserver.sh (several minutes, from the repository root)"}
}

// EtcdPath finds etcd: $ENVCTL_ETCD, else etcd on PATH.
func EtcdPath() (string, error) {
	if p := os.Getenv(EnvEtcd); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", &MissingDependencyError{What: "etcd", Path: "$" + EnvEtcd + "=" + p,
			Fix: "unset " + EnvEtcd + " or point it at an etcd binary"}
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	return "", &MissingDependencyError{What: "etcd", Path: "not on PATH",
		Fix: "sudo apt-get install -y etcd-server (Debian/Ubuntu; or bash hack/ci-deps.sh as root)"}
}

// KubectlPath finds kubectl: $ENVCTL_KUBECTL, else /usr/bin/kubectl, else PATH.
func KubectlPath() (string, error) {
	if p := os.Getenv(EnvKubectl); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		return "", &MissingDependencyError{What: "kubectl", Path: "$" + EnvKubectl + "=" + p,
			Fix: "unset " + EnvKubectl + " or point it at a kubectl binary"}
	}
	if isExecutable("/usr/bin/kubectl") {
		return "/usr/bin/kubectl", nil
	}
	if p, err := exec.LookPath("kubectl"); err == nil {
		return p, nil
	}
	return "", &MissingDependencyError{What: "kubectl", Path: "not in /usr/bin or on PATH",
		Fix: "install kubectl (https://kubernetes.io/docs/tasks/tools/)"}
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}
