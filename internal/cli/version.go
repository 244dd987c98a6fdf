package cli

import (
	"fmt"

	"github.com/envctl/envctl/internal/version"
	"github.com/spf13/cobra"
)

// NewCmdVersion returns `envctl version`.
func NewCmdVersion(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the envctl version and the kustomize library it renders with",
		Example: "  envctl version",
		Args:    exactUsage(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprintln(f.IO.Out, version.String())
			return err
		},
	}
}
