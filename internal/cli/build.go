package cli

import (
	"context"
	"fmt"

	"github.com/envctl/envctl/internal/atomicwrite"
	"github.com/envctl/envctl/internal/render"
	"github.com/spf13/cobra"
)

// BuildOptions are the inputs of `envctl build`.
type BuildOptions struct {
	Factory   *Factory
	Args      []string
	All       bool
	OutputDir string
	Render    renderFlags
}

// NewCmdBuild returns `envctl build`. runF replaces runBuild in tests.
func NewCmdBuild(f *Factory, runF func(context.Context, *BuildOptions) error) *cobra.Command {
	opts := &BuildOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "build [ENV|DIR]... [--all] [-o DIR]",
		Short: "Render environments: base + overlay, with content-hashed ConfigMaps and Secrets",
		Long: `Render one environment, base plus overlay, to stdout as a multi-document YAML
stream, exactly as 'kustomize build' (v5.8.2) would print it.

ENV is a registered environment (see 'envctl envs') or a path to any directory
that holds a kustomization, so 'envctl build ./some/overlay' works on any
kustomize tree. Names in configMapGenerator and secretGenerator get a content
hash suffix and every reference to them is rewritten, so changing a value
changes the name and rolls the workloads that use it.

With -o DIR, each environment is written to DIR/<env>.yaml; --all renders every
registered environment in parallel. Nothing is written unless every
environment renders: DIR is left exactly as it was on any error.

Renders are cached, keyed by the content of every file they read: an edit
anywhere the render looked invalidates the entry, and nothing else does.
Remote (git or http) bases are never cached, and a remote base that cannot be
fetched fails within --timeout.`,
		Example: `  # Render prod to stdout
  envctl build prod

  # Render any kustomization directory
  envctl build ./environments/staging

  # Render every environment into out/<env>.yaml
  envctl build --all -o out

  # Render without the cache
  envctl build prod --no-cache`,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runBuild(cmd.Context(), opts)
		},
		ValidArgsFunction: completeEnvs(f),
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "render every registered environment")
	cmd.Flags().StringVarP(&opts.OutputDir, "output-dir", "o", "", "write each environment to DIR/<env>.yaml instead of stdout")
	opts.Render.register(cmd.Flags())
	return cmd
}

func runBuild(ctx context.Context, opts *BuildOptions) error {
	f := opts.Factory
	switch opts.OutputDir {
	case "yaml", "json", "name", "wide":
		// kubectl users type -o yaml by habit; here -o is kustomize's
		// directory, and silently creating ./yaml/prod.yaml helps nobody.
		return usageErrorf("-o %s: -o is a directory here, as in 'kustomize build -o'; the output is YAML on stdout without -o (for a directory named %s, say -o ./%s)", opts.OutputDir, opts.OutputDir, opts.OutputDir)
	}
	envs, err := f.Resolve(opts.Args, opts.All)
	if err != nil {
		return err
	}
	if opts.OutputDir == "" && len(envs) > 1 {
		return usageErrorf("rendering %d environments needs -o DIR (one file per environment)", len(envs))
	}
	if opts.OutputDir == "" {
		rendered, err := opts.Render.render(ctx, f, envs, nil)
		if err != nil {
			return err
		}
		warnEmpty(f, rendered)
		_, err = f.IO.Out.Write(rendered[0].Result.YAML)
		return err
	}
	// Each environment is written beside DIR as soon as it is rendered, so
	// --all holds only the renders in flight; DIR changes only once every
	// environment has succeeded. Staging first also finds an unwritable
	// DIR before any rendering.
	stage, err := atomicwrite.Stage(opts.OutputDir)
	if err != nil {
		return fmt.Errorf("-o %s: %w", opts.OutputDir, err)
	}
	rendered, err := opts.Render.render(ctx, f, envs, func(r render.Rendered) error {
		if err := stage.Write(r.Env.Name+".yaml", r.Result.YAML); err != nil {
			return fmt.Errorf("-o %s: %w", opts.OutputDir, err)
		}
		return nil
	})
	if err != nil {
		stage.Abort()
		return err
	}
	warnEmpty(f, rendered)
	if err := stage.Commit(); err != nil {
		return fmt.Errorf("-o %s: %w", opts.OutputDir, err)
	}
	return nil
}

func warnEmpty(f *Factory, rendered []render.Rendered) {
	for _, r := range rendered {
		if r.Result.Objects == 0 {
			warnf(f, "environment %s (%s) rendered no objects", r.Env.Name, r.Env.Path)
		}
	}
}

// completeEnvs completes registered environment names.
func completeEnvs(f *Factory) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		r, err := f.Repo()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		return r.Names(), cobra.ShellCompDirectiveDefault
	}
}
