// Package version identifies this build of envctl.
package version

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
)

// Version is set at link time: -ldflags "-X github.com/envctl/envctl/internal/version.Version=v0.1.0".
var Version = "dev"

// KustomizeAPI returns the version of sigs.k8s.io/kustomize/api linked in.
func KustomizeAPI() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "sigs.k8s.io/kustomize/api" {
				return d.Version
			}
		}
	}
	return "unknown"
}

// String is the human-readable version line.
func String() string {
	return fmt.Sprintf("envctl %s (kustomize/api %s, %s %s/%s)", Version, KustomizeAPI(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// BuildID distinguishes builds for caches: a released version is enough,
// but every "dev" build may render differently, so it adds the executable's
// size and modification time.
func BuildID() string {
	id := Version + "/" + KustomizeAPI()
	if Version != "dev" {
		return id
	}
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			id += fmt.Sprintf("/%d/%d", st.Size(), st.ModTime().UnixNano())
		}
	}
	return id
}
