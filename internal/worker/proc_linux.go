package worker

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the child when envctl dies without
// cancelling it (SIGKILL, the OOM killer), so no worker outlives its parent
// to finish a render nobody will read. The kernel sends the signal when the
// thread that started the child exits; Go keeps its threads for the life of
// the process unless a goroutine locked to one exits, and envctl locks none.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
