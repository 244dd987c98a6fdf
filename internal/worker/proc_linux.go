package worker

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child when envctl dies without
// cancelling it (SIGKILL, the OOM killer), so no worker outlives its parent
// to finish a render nobody will read.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
