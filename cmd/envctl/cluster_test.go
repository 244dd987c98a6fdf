package main

import (
	"context"
	"maps"
	"os"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/envctl/envctl/bench/gen"
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
	runClusterScripts(t, c, "testdata/cluster", scriptCmds)
}

// TestRBACScripts runs the least-privilege drift job scenarios
// (testdata/rbac) on a cluster of their own: they deploy the example's
// staging into its own namespace, which the diff scenarios expect empty.
func TestRBACScripts(t *testing.T) {
	c := testcluster.Start(t)
	runClusterScripts(t, c, "testdata/rbac", scriptCmds)
}

// TestApplyScripts runs the deploy scenarios (testdata/apply) on a cluster
// of their own: they deploy the example's environments into the same
// namespaces that TestClusterScripts' diff scenarios apply to by hand.
func TestApplyScripts(t *testing.T) {
	c := testcluster.Start(t)
	runClusterScripts(t, c, "testdata/apply", applyCmds(c))
}

// TestApplyOutageScripts runs the scenarios that stop the API server
// (testdata/apply-outage) on a cluster of their own.
func TestApplyOutageScripts(t *testing.T) {
	c := testcluster.Start(t)
	cmds := applyCmds(c)
	// apiserver stop|start stops kube-apiserver (etcd stays) or starts it
	// again and waits until it is ready.
	cmds["apiserver"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: apiserver stop|start")
		}
		switch args[0] {
		case "stop":
			c.StopAPIServer()
		case "start":
			ts.Check(c.StartAPIServer())
		default:
			ts.Fatalf("usage: apiserver stop|start")
		}
	}
	runClusterScripts(t, c, "testdata/apply-outage", cmds)
}

// runClusterScripts runs the scripts in dir against cluster c: $REPO is
// this repository, $KUBECONFIG reaches c (one context per user), $SERVER
// is its URL, $KUBECTL the kubectl to use; each script has its own render
// cache and the example's age keys.
func runClusterScripts(t *testing.T, c *testcluster.Cluster, dir string, cmds map[string]func(ts *testscript.TestScript, neg bool, args []string)) {
	t.Helper()
	kubectl, err := testcluster.KubectlPath()
	if err != nil {
		t.Fatal(err)
	}
	root, _ := filepath.Abs("../..")
	testscript.Run(t, testscript.Params{
		Dir:                 dir,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", root)
			env.Setenv("KUBECONFIG", c.Kubeconfig)
			env.Setenv("SERVER", c.Server)
			env.Setenv("KUBECTL", kubectl)
			env.Setenv("ENVCTL_CACHE_DIR", filepath.Join(env.WorkDir, ".envctl-cache"))
			env.Setenv("SOPS_AGE_KEY", os.Getenv("SOPS_AGE_KEY"))
			return nil
		},
		Cmds: cmds,
	})
}

// applyCmds are the script commands of the deploy scenarios.
func applyCmds(c *testcluster.Cluster) map[string]func(ts *testscript.TestScript, neg bool, args []string) {
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
	// gen-repo DIR ENVS OBJECTS writes a generated repository (bench/gen).
	cmds["gen-repo"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: gen-repo DIR ENVS OBJECTS")
		}
		envs, err1 := strconv.Atoi(args[1])
		objs, err2 := strconv.Atoi(args[2])
		if err1 != nil || err2 != nil {
			ts.Fatalf("gen-repo: ENVS and OBJECTS are numbers")
		}
		ts.Check(gen.Write(ts.MkAbs(args[0]), gen.Spec{Envs: envs, Objects: objs}))
	}
	// wait-objects NAMESPACE RESOURCE N waits (up to a minute) until the
	// namespace holds at least N objects of the resource.
	cmds["wait-objects"] = func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 3 {
			ts.Fatalf("usage: wait-objects NAMESPACE RESOURCE N")
		}
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		dc, err := dynamic.NewForConfig(c.RESTConfig(testcluster.UserAdmin))
		ts.Check(err)
		gvr := schema.GroupVersionResource{Version: "v1", Resource: args[1]}
		deadline := time.Now().Add(time.Minute)
		for {
			l, err := dc.Resource(gvr).Namespace(args[0]).List(context.Background(), metav1.ListOptions{})
			ts.Check(err)
			if len(l.Items) >= n {
				return
			}
			if time.Now().After(deadline) {
				ts.Fatalf("wait-objects: %d %s in %s after a minute, want %d", len(l.Items), args[1], args[0], n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return cmds
}
