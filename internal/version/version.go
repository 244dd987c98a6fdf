// Package version identifies this build of envctl.
package version

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version, when set at link time (-ldflags "-X
// github.com/envctl/envctl/internal/version.Version=v0.1.0"), wins over
// what the Go toolchain recorded in the binary.
var Version = ""

// Info is what a build says about itself.
type Info struct {
	// Version is the module version: a release tag for `go install
	// …@v1.2.3`, a pseudo-version for `go build` in a clone (Go records
	// one from the VCS), "dev" when nothing is known.
	Version string
	// Revision is the VCS commit the binary was built from, if recorded.
	Revision string
	// Modified is true when the work tree had uncommitted changes.
	Modified bool
	// KustomizeAPI is the version of sigs.k8s.io/kustomize/api linked in.
	KustomizeAPI string
}

// Read returns this build's Info from the link-time Version and the build
// information the Go toolchain embeds (runtime/debug).
func Read() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(bi, Version)
}

// fromBuildInfo is Read over given build information (nil when the
// binary carries none) and link-time version.
func fromBuildInfo(bi *debug.BuildInfo, linked string) Info {
	info := Info{Version: linked, KustomizeAPI: "unknown"}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Revision = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "sigs.k8s.io/kustomize/api" {
				info.KustomizeAPI = d.Version
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	return info
}

// String is the human-readable version line, e.g.
// "envctl v0.3.0 (commit 613dbc18928b, kustomize/api v0.21.2, go1.26.8 linux/amd64)".
func String() string { return Read().String() }

// String is the version line of info.
func (info Info) String() string {
	var parts []string
	if info.Revision != "" {
		c := info.Revision[:min(12, len(info.Revision))]
		if info.Modified {
			c += ", modified"
		}
		parts = append(parts, "commit "+c)
	}
	parts = append(parts, "kustomize/api "+info.KustomizeAPI, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return fmt.Sprintf("envctl %s (%s)", info.Version, strings.Join(parts, ", "))
}

// BuildID distinguishes builds for caches. A release or a build of a clean
// commit is named by its version; any other build may render differently
// from the next one under the same name, so the executable's size and
// modification time are added.
func BuildID() string {
	info := Read()
	id := info.Version + "/" + info.KustomizeAPI
	if info.Version != "dev" && !info.Modified && !strings.HasSuffix(info.Version, "+dirty") {
		return id
	}
	if exe, err := os.Executable(); err == nil {
		if st, err := os.Stat(exe); err == nil {
			id += fmt.Sprintf("/%d/%d", st.Size(), st.ModTime().UnixNano())
		}
	}
	return id
}
