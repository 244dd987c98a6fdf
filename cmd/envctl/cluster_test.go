package main

import (
	"path/filepath"
	"testing"

	"github.com/envctl/envctl/internal/testcluster"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestClusterScripts runs the CLI scenarios that need a real API server
// (testdata/cluster) against one etcd + kube-apiserver. In CI a missing
// binary fails the test; see hack/test.sh.
func TestClusterScripts(t *testing.T) {
	c := testcluster.Start(t)
	kubectl, err := testcluster.KubectlPath()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/cluster",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", root)
			env.Setenv("KUBECONFIG", c.Kubeconfig)
			env.Setenv("SERVER", c.Server)
			env.Setenv("KUBECTL", kubectl)
			env.Setenv("ENVCTL_CACHE_DIR", filepath.Join(env.WorkDir, ".envctl-cache"))
			return nil
		},
		Cmds: scriptCmds,
	})
}
