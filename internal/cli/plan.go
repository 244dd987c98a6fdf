package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/envctl/envctl/internal/atomicwrite"
	"github.com/envctl/envctl/internal/deploy"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/repo"
)

// PlanOptions are the inputs of `envctl plan`.
type PlanOptions struct {
	Factory  *Factory
	Env      string
	Output   string
	SignKey  string
	Markdown string
	Deploy   deployFlags
	Render   renderFlags
	Cluster  clusterFlags
}

// NewCmdPlan returns `envctl plan`.
func NewCmdPlan(f *Factory, runF func(context.Context, *PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "plan ENV -o FILE",
		Short: "Record what an apply would change, for review; apply --plan applies exactly that",
		Long: `Render and validate the environment, compare it with its cluster and send every
create and change as a server-side dry run, as apply --dry-run=server does;
then write a plan file (-o) and print the plan and its id.

The plan file pins what was reviewed: the render's digest, envctl.yaml's
digest, the git commit, the cluster (its URL and the uid of kube-system),
the release it was made against, and the uid and resourceVersion of every
live object it changes or prunes. envctl apply ENV --plan FILE applies it
only if none of that moved, and records the plan id in the release. The
file holds no Secret value (Secret fields are masked, the render is a
digest), so it can be a pull request's artifact. Its id is a digest of its
content: an edited plan is refused.

--sign-key KEY signs the plan with an SSH key as it is written, for an
environment whose approval names signers (see envctl approve).`,
		Example: `  envctl plan prod -o prod.plan.json
  envctl apply prod --plan prod.plan.json --yes`,
		Args: exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Env = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPlan(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	fl := cmd.Flags()
	fl.StringVarP(&opts.Output, "output", "o", "", "write the plan file here (required)")
	fl.StringVar(&opts.Markdown, "markdown", "", "also write the plan's summary as markdown to this file (a CI job summary, a PR comment)")
	fl.StringVar(&opts.SignKey, "sign-key", "", "sign the plan with this SSH private key (see envctl approve)")
	opts.Deploy.registerPlan(fl)
	opts.Render.registerAs(fl, "render-timeout")
	opts.Cluster.register(fl)
	return cmd
}

func runPlan(ctx context.Context, opts *PlanOptions) error {
	f := opts.Factory
	if opts.Output == "" {
		return usageErrorf("-o FILE is required: the plan file that apply --plan reads")
	}
	var signer ssh.Signer
	if opts.SignKey != "" {
		var err error
		if signer, err = loadSigningKey("--sign-key", opts.SignKey); err != nil {
			return err
		}
	}
	ec, err := opts.Cluster.connectEnv(ctx, f, opts.Env)
	if err != nil {
		return err
	}
	signerAs := ""
	if signer != nil {
		allowed, file := planSigners(f, ec.env.Name)
		if signerAs, err = signerName(allowed, file, signer.PublicKey()); err != nil {
			return err
		}
	}
	rendered, err := opts.Render.render(ctx, f, []repo.Environment{ec.env}, nil)
	if err != nil {
		return err
	}
	if err := validateRendered(ctx, f, opts.Render, rendered); err != nil {
		return err
	}
	rd := rendered[0]
	r, err := f.Repo()
	if err != nil {
		return err
	}
	objs, err := manifest.Parse(rd.Result.YAML)
	if err != nil {
		return fmt.Errorf("parsing the rendered objects: %w", err)
	}
	req := opts.Deploy.request(ec.env.Name, ec.ns, ignoreRules(r.Config, ec.env))
	req.Objects, req.Render = objs, rd.Result.YAML
	plan, err := deploy.Check(ctx, ec.c, req)
	if plan != nil {
		printWarnings(f, ec.env.Name, plan.Warnings)
	}
	if err != nil {
		return err
	}
	cl, err := deploy.Identify(ctx, ec.c)
	if err != nil {
		return err
	}
	config, err := readConfig(f, r)
	if err != nil {
		return err
	}
	git := repo.Git(ctx, r.Root)
	pf := deploy.NewPlanFile(plan, rd.Result.YAML, config, git.Commit, git.Dirty, cl, time.Now())
	if user, err := ec.c.WhoAmI(ctx); err == nil {
		pf.Planner = user
		pf.ID = pf.Seal()
	}
	if signer != nil {
		if err := pf.Sign(signer, signerAs); err != nil {
			return err
		}
	}
	data, err := deploy.EncodePlanFile(pf)
	if err != nil {
		return err
	}
	// Files first, then stdout: a plan that could not be written prints
	// nothing, and a failed plan file takes its markdown summary with it.
	if opts.Markdown != "" {
		var md bytes.Buffer
		if err := deploy.WritePlanMarkdown(&md, plan, pf.ID); err != nil {
			return err
		}
		if err := atomicwrite.File(opts.Markdown, md.Bytes()); err != nil {
			return err
		}
	}
	if err := atomicwrite.File(opts.Output, data); err != nil {
		if opts.Markdown != "" {
			os.Remove(opts.Markdown)
		}
		return err
	}
	if err := deploy.WritePlan(f.IO.Out, plan); err != nil {
		return err
	}
	fmt.Fprintf(f.IO.Out, "%s: plan %s written to %s\n", ec.env.Name, pf.ID, opts.Output)
	if signer != nil {
		fmt.Fprintf(f.IO.Out, "%s: plan %s signed by %s\n", ec.env.Name, pf.ID, pf.Signatures[0].Signer+" ("+pf.Signatures[0].Key+")")
	}
	return nil
}

// readConfig returns envctl.yaml's bytes, or nil when there is none.
func readConfig(f *Factory, r *repo.Repo) ([]byte, error) {
	if r.ConfigPath == "" {
		return nil, nil
	}
	return f.FS.ReadFile(r.ConfigPath)
}

// readPlanFile reads a plan file given to apply --plan.
func readPlanFile(path string) (*deploy.PlanFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--plan: %w", err)
	}
	return deploy.ReadPlanFile(path, data)
}
