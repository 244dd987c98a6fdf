package cli

import (
	"os"
	"runtime/debug"

	"github.com/envctl/envctl/internal/overlay"
	"github.com/envctl/envctl/internal/worker"
	"github.com/spf13/cobra"
)

// newCmdWorker is the hidden command a parallel render runs in a child
// process (see package worker).
func newCmdWorker(f *Factory) *cobra.Command {
	var opts overlay.Options
	cmd := &cobra.Command{
		Use:    worker.Command + " DIR",
		Hidden: true,
		Args:   exactUsage(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(parallelGCPercent)
			}
			return worker.Serve(cmd.Context(), f.FS, args[0], opts, f.IO.Out)
		},
	}
	cmd.Flags().DurationVar(&opts.RemoteTimeout, "timeout", overlay.DefaultRemoteTimeout, "")
	return cmd
}
