package testcluster

import (
	"os/exec"
	"syscall"
)

// setProcAttrs puts the child in its own process group (so killGroup also
// reaches anything it forks) and has the kernel kill it if the test binary
// dies without running cleanups (go test -timeout, a crash, SIGKILL).
func setProcAttrs(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Process.Kill()
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
