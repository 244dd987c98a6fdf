package cli

import (
	"github.com/spf13/cobra"
)

// NewRootCmd builds the envctl command tree.
func NewRootCmd(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "envctl",
		Short: "Compose, check and watch the environments of a Kubernetes config repository",
		Long: `envctl renders the environments of a repository that holds a shared base and one
kustomize overlay per environment (dev, staging, prod, ...), with content-hashed
ConfigMaps and Secrets so that a config change rolls the workloads that use it.

Environments are the directories environments/<name>/ that hold a kustomization,
or the ones listed in envctl.yaml at the repository root.

Exit codes: 0 success, 1 findings (invalid objects, drift), 2 usage or runtime error.`,
		Example: `  # List the environments of the repository
  envctl envs

  # Render prod to stdout
  envctl build prod

  # Render every environment into out/<env>.yaml
  envctl build --all -o out`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().StringVar(&f.RepoDir, "repo", "", "repository root (default: the nearest directory upward holding envctl.yaml, else the working directory)")
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &usageError{err}
	})
	cmd.AddCommand(
		NewCmdPlan(f, nil),
		NewCmdApprove(f, nil),
		NewCmdApply(f, nil),
		NewCmdHistory(f, nil),
		NewCmdRollback(f, nil),
		NewCmdGC(f, nil),
		NewCmdDelete(f, nil),
		NewCmdBuild(f, nil),
		NewCmdEnvs(f, nil),
		NewCmdDiff(f, nil),
		NewCmdCompare(f, nil),
		NewCmdSnapshot(f, nil),
		NewCmdRBAC(f, nil),
		NewCmdValidate(f, nil),
		NewCmdSecrets(f),
		NewCmdVersion(f),
		newCmdWorker(f),
	)
	return cmd
}

// exactUsage requires n positional arguments, failing with a usage error
// (exit 2, with a pointer to --help) rather than cobra's plain one.
func exactUsage(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
