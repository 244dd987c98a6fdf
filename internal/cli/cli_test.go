package cli

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/repo"
	"github.com/spf13/cobra"
)

// run parses args with cmd as the root command would and returns the error
// its RunE returned (runF's, in these tests).
func run(t *testing.T, cmd *cobra.Command, args ...string) error {
	t.Helper()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &usageError{err} })
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	return cmd.ExecuteContext(context.Background())
}

func envOf(kubeContext, ns string) repo.Environment {
	return repo.Environment{Name: "prod", Context: kubeContext, Namespace: ns}
}

func TestNewCmdBuildMapsFlagsToOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want BuildOptions
	}{
		{"one environment to stdout", []string{"prod"}, BuildOptions{Args: []string{"prod"}, Render: renderFlags{timeoutFlag: "timeout", Timeout: 60 * time.Second}}},
		{"every environment into a directory", []string{"--all", "-o", "out", "-j", "3", "--no-cache"}, BuildOptions{Args: []string{}, All: true, OutputDir: "out", Render: renderFlags{timeoutFlag: "timeout", Timeout: 60 * time.Second, Jobs: 3, NoCache: true}}},
		{"a cache directory and a remote timeout", []string{"dev", "staging", "--output-dir=o", "--cache-dir", "/c", "--timeout", "5s"}, BuildOptions{Args: []string{"dev", "staging"}, OutputDir: "o", Render: renderFlags{timeoutFlag: "timeout", Timeout: 5 * time.Second, CacheDir: "/c"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *BuildOptions
			cmd := NewCmdBuild(&Factory{}, func(_ context.Context, o *BuildOptions) error { got = o; return nil })
			if err := run(t, cmd, tc.args...); err != nil {
				t.Fatal(err)
			}
			got.Factory = nil
			if !reflect.DeepEqual(*got, tc.want) {
				t.Errorf("options = %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestNewCmdDiffMapsFlagsToOptions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		check func(t *testing.T, o *DiffOptions)
	}{
		{"defaults: text, the environment's own context", []string{"staging"}, func(t *testing.T, o *DiffOptions) {
			if o.Output != "text" || o.Cluster.Overrides.CurrentContext != "" || o.Cluster.Overrides.Timeout != "30s" {
				t.Errorf("output %q, context %q, timeout %q", o.Output, o.Cluster.Overrides.CurrentContext, o.Cluster.Overrides.Timeout)
			}
		}},
		{"kubectl's connection flags", []string{"--all", "--kubeconfig", "kc", "--context", "admin", "-n", "ns/apps", "--request-timeout", "30", "--as", "alice", "--as-group", "ops", "--token", "t", "-s", "https://127.0.0.1:6443", "--insecure-skip-tls-verify", "--certificate-authority", "ca.crt"}, func(t *testing.T, o *DiffOptions) {
			ov := o.Cluster.Overrides
			if !o.All || o.Cluster.Kubeconfig != "kc" || ov.CurrentContext != "admin" || ov.Context.Namespace != "apps" || ov.Timeout != "30" ||
				ov.AuthInfo.Impersonate != "alice" || len(ov.AuthInfo.ImpersonateGroups) != 1 || ov.AuthInfo.Token != "t" ||
				ov.ClusterInfo.Server != "https://127.0.0.1:6443" || !ov.ClusterInfo.InsecureSkipTLSVerify || ov.ClusterInfo.CertificateAuthority != "ca.crt" {
				t.Errorf("cluster flags = %+v", o.Cluster)
			}
		}},
		{"snapshots and a format", []string{"prod", "--live", "a.yaml,b.yaml", "-o", "junit"}, func(t *testing.T, o *DiffOptions) {
			if !reflect.DeepEqual(o.Live, []string{"a.yaml", "b.yaml"}) || o.Output != "junit" {
				t.Errorf("live %v, output %q", o.Live, o.Output)
			}
		}},
		{"the drift job inside the cluster", []string{"prod", "--in-cluster"}, func(t *testing.T, o *DiffOptions) {
			if !o.Cluster.InCluster {
				t.Error("--in-cluster not set")
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *DiffOptions
			cmd := NewCmdDiff(&Factory{}, func(_ context.Context, o *DiffOptions) error { got = o; return nil })
			if err := run(t, cmd, tc.args...); err != nil {
				t.Fatal(err)
			}
			tc.check(t, got)
		})
	}
}

func TestNewCmdValidateMapsFlagsToOptions(t *testing.T) {
	var got *ValidateOptions
	cmd := NewCmdValidate(&Factory{}, func(_ context.Context, o *ValidateOptions) error { got = o; return nil })
	if err := run(t, cmd, "-f", "-", "-f", "dir", "--env", "prod", "-o", "sarif", "--kube-version", "1.33", "--strict=false", "--skip-kinds", "Foo,x/v1/Bar", "--skip-unknown", "--max-input-size", "1GiB", "--dry-run=server", "--context", "c1", "-n", "ns1"); err != nil {
		t.Fatal(err)
	}
	want := ValidateOptions{Args: []string{}, Files: []string{"-", "dir"}, Env: "prod", Output: "sarif", KubeVersion: "1.33", SkipKinds: []string{"Foo", "x/v1/Bar"}, SkipUnknown: true, MaxSize: 1 << 30, DryRun: "server", Render: renderFlags{timeoutFlag: "timeout", Timeout: 60 * time.Second}}
	if o := got.Cluster.Overrides; o.CurrentContext != "c1" || o.Context.Namespace != "ns1" {
		t.Errorf("connection flags: context %q, namespace %q", o.CurrentContext, o.Context.Namespace)
	}
	got.Factory, got.Cluster = nil, clusterFlags{}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("options = %+v\nwant %+v", *got, want)
	}
}

func TestNewCmdSnapshotAndEnvsMapFlagsToOptions(t *testing.T) {
	var snap *SnapshotOptions
	cmd := NewCmdSnapshot(&Factory{}, func(_ context.Context, o *SnapshotOptions) error { snap = o; return nil })
	if err := run(t, cmd, "staging", "-o", "live.yaml", "--context", "c", "-n", "x"); err != nil {
		t.Fatal(err)
	}
	if snap.Output != "live.yaml" || snap.Cluster.Overrides.CurrentContext != "c" || snap.Cluster.Overrides.Context.Namespace != "x" {
		t.Errorf("snapshot options = %+v", snap)
	}
	var envs *EnvsOptions
	cmd = NewCmdEnvs(&Factory{}, func(_ context.Context, o *EnvsOptions) error { envs = o; return nil })
	if err := run(t, cmd, "-o", "name"); err != nil {
		t.Fatal(err)
	}
	if envs.Output != "name" {
		t.Errorf("envs -o = %q", envs.Output)
	}
}

func TestBadFlagsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"prod", "--jobs", "many"},
		{"prod", "--no-such-flag"},
	} {
		cmd := NewCmdBuild(&Factory{}, func(context.Context, *BuildOptions) error { return nil })
		var ue *usageError
		if err := run(t, cmd, args...); !errors.As(err, &ue) {
			t.Errorf("build %v: err = %v, want a usage error (exit 2 with a pointer to --help)", args, err)
		}
	}
}

func TestClusterFlagsTarget(t *testing.T) {
	var c clusterFlags
	t.Run("envctl.yaml's context and namespace by default", func(t *testing.T) {
		tg := c.target(envOf("storefront-prod", "storefront-prod"))
		if tg.Context != "storefront-prod" || tg.Namespace != "storefront-prod" {
			t.Errorf("target = %+v", tg)
		}
	})
	t.Run("--context and -n win", func(t *testing.T) {
		c.Overrides.CurrentContext, c.Overrides.Context.Namespace = "admin", "other"
		tg := c.target(envOf("storefront-prod", "storefront-prod"))
		if tg.Context != "admin" || tg.Namespace != "other" {
			t.Errorf("target = %+v", tg)
		}
	})
}

func TestNewCmdApplyMapsFlagsToARequest(t *testing.T) {
	var got *ApplyOptions
	cmd := NewCmdApply(&Factory{}, func(_ context.Context, o *ApplyOptions) error { got = o; return nil })
	if err := run(t, cmd, "prod", "-y", "--force-conflicts", "--recreate", "--prune=false", "--prune-data", "--keep-generations", "2",
		"--history-max", "5", "--timeout", "90s", "--render-timeout", "10s", "--atomic", "--dry-run=server", "--field-manager", "ci", "--context", "c"); err != nil {
		t.Fatal(err)
	}
	if !got.Atomic || got.DryRun != "server" || got.Render.Timeout != 10*time.Second || got.Cluster.Overrides.CurrentContext != "c" {
		t.Errorf("options %+v", got)
	}
	req := got.Deploy.request("prod", "ns", nil)
	want := deploy.Request{
		Target:         deploy.Target{Environment: "prod", Namespace: "ns"},
		Plan:           deploy.PlanOptions{NoPrune: true, PruneData: true, KeepGenerations: 2},
		FieldManager:   "ci",
		ForceConflicts: true,
		Recreate:       true,
		Wait:           true,
		Timeout:        90 * time.Second,
		HistoryMax:     5,
	}
	if !reflect.DeepEqual(req, want) {
		t.Errorf("request %+v\nwant    %+v", req, want)
	}
	if !got.Deploy.Yes {
		t.Error("-y is not --yes")
	}
}

func TestDeployFlagsThatCannotWorkTogetherAreUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		d    deployFlags
		tty  bool
	}{
		{"no terminal and no --yes", deployFlags{Timeout: time.Minute, KeepGenerations: 3, HistoryMax: 10}, false},
		{"a history shorter than the kept generations", deployFlags{Yes: true, Timeout: time.Minute, KeepGenerations: 5, HistoryMax: 2}, false},
		{"no timeout", deployFlags{Yes: true, KeepGenerations: 3, HistoryMax: 10}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ue *usageError
			if err := tc.d.check(tc.tty, true); !errors.As(err, &ue) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
	ok := deployFlags{Timeout: time.Minute, KeepGenerations: 3, HistoryMax: 10}
	if err := ok.check(false, false); err != nil {
		t.Errorf("a dry run needs no terminal: %v", err)
	}
}

func TestNewCmdRollbackHistoryGCDelete(t *testing.T) {
	var rb *RollbackOptions
	if err := run(t, NewCmdRollback(&Factory{}, func(_ context.Context, o *RollbackOptions) error { rb = o; return nil }), "prod", "--to", "3", "--yes"); err != nil {
		t.Fatal(err)
	}
	if rb.Env != "prod" || rb.To != 3 || !rb.Deploy.Yes {
		t.Errorf("rollback %+v", rb)
	}
	var h *HistoryOptions
	if err := run(t, NewCmdHistory(&Factory{}, func(_ context.Context, o *HistoryOptions) error { h = o; return nil }), "prod", "-o", "json"); err != nil {
		t.Fatal(err)
	}
	if h.Env != "prod" || h.Output != "json" {
		t.Errorf("history %+v", h)
	}
	var g *GCOptions
	if err := run(t, NewCmdGC(&Factory{}, func(_ context.Context, o *GCOptions) error { g = o; return nil }), "prod", "--keep", "1", "--dry-run"); err != nil {
		t.Fatal(err)
	}
	if g.Keep != 1 || !g.DryRun {
		t.Errorf("gc %+v", g)
	}
	var ue *usageError
	if err := run(t, NewCmdDelete(&Factory{}, func(context.Context, *DeleteOptions) error { return nil })); !errors.As(err, &ue) {
		t.Errorf("delete without an environment: %v", err)
	}
}
