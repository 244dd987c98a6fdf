package cli

import (
	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/worker"
	"github.com/spf13/cobra"
)

// newCmdWorker is the hidden command a parallel render runs in a child
// process (see package worker).
func newCmdWorker(f *Factory) *cobra.Command {
	var timeout = overlay.DefaultRemoteTimeout
	var noDecrypt bool
	cmd := &cobra.Command{
		Use:    worker.Command + " DIR",
		Hidden: true,
		Args:   exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return render.ServeWorker(cmd.Context(), f.FS, args[0], overlay.Options{RemoteTimeout: timeout, NoDecrypt: noDecrypt}, f.IO.Out)
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", overlay.DefaultRemoteTimeout, "")
	cmd.Flags().BoolVar(&noDecrypt, "no-decrypt", false, "")
	return cmd
}
