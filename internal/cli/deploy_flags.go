package cli

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/drift"
)

// deployFlags are the flags of the commands that write to a cluster
// (apply, rollback, delete).
type deployFlags struct {
	Yes                bool
	FieldManager       string
	ForceConflicts     bool
	Recreate           bool
	Prune              bool
	PruneClusterScoped bool
	PruneData          bool
	KeepGenerations    int
	HistoryMax         int
	NoWait             bool
	Timeout            time.Duration
}

func (d *deployFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&d.Yes, "yes", "y", false, "go ahead without asking (required without a terminal)")
	d.registerPlan(fs)
	fs.BoolVar(&d.NoWait, "no-wait", false, "do not wait for rollouts; prune right after applying")
	fs.DurationVar(&d.Timeout, "timeout", 5*time.Minute, "how long to wait for what changed to be ready")
}

// registerPlan registers the flags that shape a plan: envctl plan takes
// these, and not --yes, --no-wait or --timeout, which only an apply uses.
func (d *deployFlags) registerPlan(fs *pflag.FlagSet) {
	fs.StringVar(&d.FieldManager, "field-manager", "envctl", "server-side apply field manager")
	fs.BoolVar(&d.ForceConflicts, "force-conflicts", false, "take ownership of fields that another field manager owns")
	fs.BoolVar(&d.Recreate, "recreate", false, "delete and re-create objects whose immutable fields change (never PVCs or StatefulSets with volume claims)")
	fs.BoolVar(&d.Prune, "prune", true, "delete objects of the previous release that are no longer rendered")
	fs.BoolVar(&d.PruneClusterScoped, "prune-cluster-scoped", false, "also prune Namespaces and CustomResourceDefinitions")
	fs.BoolVar(&d.PruneData, "prune-data", false, "also prune PersistentVolumeClaims")
	fs.IntVar(&d.KeepGenerations, "keep-generations", 3, "keep the hashed ConfigMaps and Secrets of this many recent releases")
	fs.IntVar(&d.HistoryMax, "history-max", 10, "releases kept in the cluster")
}

// check rejects flag values that cannot work together. interactive says
// whether there is a terminal to ask on; ask is false when nothing will
// be asked (a dry run).
func (d *deployFlags) check(interactive, ask bool) error {
	if d.Timeout <= 0 {
		return usageErrorf("--timeout must be positive, got %s", d.Timeout)
	}
	if d.KeepGenerations < 1 || d.HistoryMax < 1 {
		return usageErrorf("--keep-generations and --history-max must be at least 1")
	}
	if d.HistoryMax < d.KeepGenerations {
		return usageErrorf("--history-max %d is below --keep-generations %d: the generations are found through the history", d.HistoryMax, d.KeepGenerations)
	}
	if ask && !d.Yes && !interactive {
		return usageErrorf("refusing to go ahead without confirmation: there is no terminal to ask on; pass --yes")
	}
	return nil
}

// request is the deploy request the flags describe, for one environment.
func (d *deployFlags) request(env, ns string, ignore []drift.IgnoreRule) deploy.Request {
	return deploy.Request{
		Target: deploy.Target{Environment: env, Namespace: ns},
		Plan: deploy.PlanOptions{
			NoPrune: !d.Prune, PruneClusterScoped: d.PruneClusterScoped, PruneData: d.PruneData,
			KeepGenerations: d.KeepGenerations, Ignore: ignore,
		},
		FieldManager:   d.FieldManager,
		ForceConflicts: d.ForceConflicts,
		Recreate:       d.Recreate,
		Wait:           !d.NoWait,
		Timeout:        d.Timeout,
		HistoryMax:     d.HistoryMax,
	}
}
