package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// EnvsOptions are the inputs of `envctl envs`.
type EnvsOptions struct {
	Factory *Factory
	Output  string
}

// envRow is one environment as `envctl envs -o json` prints it; the field
// names are a stable interface for scripts.
type envRow struct {
	Name      string `json:"name"`
	Path      string `json:"path"`
	Context   string `json:"context,omitempty"`
	Namespace string `json:"namespace,omitempty"`
}

// envsFormats are the values of envs -o. They are not report formats: a
// list of environments is not a report.
var envsFormats = []string{"text", "json", "name"}

// NewCmdEnvs returns `envctl envs`.
func NewCmdEnvs(f *Factory, runF func(context.Context, *EnvsOptions) error) *cobra.Command {
	opts := &EnvsOptions{Factory: f}
	cmd := &cobra.Command{
		Use:   "envs",
		Short: "List the registered environments",
		Long: `List the environments of the repository: each name, its overlay directory
(relative to the repository root) and, where envctl.yaml gives them, the
kubeconfig context and namespace of its cluster.`,
		Example: `  envctl envs
  envctl envs -o json | jq -r '.[].name'
  for e in $(envctl envs -o name); do envctl build "$e" -o out; done`,
		Args: exactUsage(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runEnvs(opts)
		},
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output format: text, json or name")
	// Fails only for a flag that does not exist; -o is defined just above.
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(envsFormats, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func runEnvs(opts *EnvsOptions) error {
	if !slices.Contains(envsFormats, opts.Output) {
		return usageErrorf("-o %q: want text, json or name", opts.Output)
	}
	f := opts.Factory
	r, err := f.Repo()
	if err != nil {
		return err
	}
	rows := []envRow{}
	for _, e := range r.Environments() {
		p, err := filepath.Rel(r.Root, e.Path)
		if err != nil {
			p = e.Path
		}
		rows = append(rows, envRow{Name: e.Name, Path: filepath.ToSlash(p), Context: e.Context, Namespace: e.Namespace})
	}
	switch opts.Output {
	case "json":
		enc := json.NewEncoder(f.IO.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "name":
		for _, row := range rows {
			fmt.Fprintln(f.IO.Out, row.Name)
		}
		return nil
	}
	if len(rows) == 0 {
		fmt.Fprintf(f.IO.ErrOut, "no environments in %s\n", r.Root)
		return nil
	}
	tw := tabwriter.NewWriter(f.IO.Out, 0, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPATH\tCONTEXT\tNAMESPACE")
	for _, row := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row.Name, row.Path, dash(row.Context), dash(row.Namespace))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
