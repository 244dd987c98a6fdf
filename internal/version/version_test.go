package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionComesFromTheBuildInformation(t *testing.T) {
	deps := []*debug.Module{{Path: "sigs.k8s.io/kustomize/api", Version: "v0.21.2"}}
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "613dbc18928bafeb663d8d6788aa6f2393942408"}, {Key: "vcs.modified", Value: "true"}}
	for _, tc := range []struct {
		name   string
		bi     *debug.BuildInfo
		linked string
		want   string
	}{
		{"go install of a release names the release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Deps: deps}, "", "envctl v1.2.3 (kustomize/api v0.21.2, "},
		{"go build in a clone names the commit and a modified tree", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261202121330-613dbc18928b+dirty"}, Deps: deps, Settings: vcs}, "", "envctl v0.0.0-20261202121330-613dbc18928b+dirty (commit 613dbc18928b, modified, kustomize/api v0.21.2, "},
		{"a link-time version wins", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Deps: deps}, "v9.9.9", "envctl v9.9.9 ("},
		{"a build without VCS stamps is dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Deps: deps}, "", "envctl dev (kustomize/api v0.21.2, "},
		{"no build information at all", nil, "", "envctl dev (kustomize/api unknown, "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fromBuildInfo(tc.bi, tc.linked).String(); !strings.HasPrefix(got, tc.want) {
				t.Errorf("got %q, want it to start %q", got, tc.want)
			}
		})
	}
}
