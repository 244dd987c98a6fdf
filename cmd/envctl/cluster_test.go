package main

import (
	"maps"
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

// TestApplyScripts runs the deploy scenarios (testdata/apply) on a cluster
// of their own: they deploy the example's environments into the same
// namespaces that TestClusterScripts' diff scenarios apply to by hand.
func TestApplyScripts(t *testing.T) {
	c := testcluster.Start(t)
	kubectl, err := testcluster.KubectlPath()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	cmds := maps.Clone(scriptCmds)
	// complete-rollouts NS... stands in for the controllers the test API
	// server does not run, until the script ends.
	cmds["complete-rollouts"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) == 0 {
			ts.Fatalf("usage: complete-rollouts NAMESPACE...")
		}
		for _, ns := range args {
			stop, err := c.StartRollouts(ns)
			ts.Check(err)
			ts.Defer(stop)
		}
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/apply",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", root)
			env.Setenv("KUBECONFIG", c.Kubeconfig)
			env.Setenv("KUBECTL", kubectl)
			env.Setenv("ENVCTL_CACHE_DIR", filepath.Join(env.WorkDir, ".envctl-cache"))
			return nil
		},
		Cmds: cmds,
	})
}
