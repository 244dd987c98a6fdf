// Command envctl composes, checks and watches the environments of a
// Kubernetes configuration repository.
package main

import (
	"os"

	"github.com/envctl/envctl/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.Stdio()))
}
