//go:build !linux

package worker

import "os/exec"

// dieWithParent: only Linux can tie a child's life to its parent's; a
// worker left behind elsewhere finishes its render and exits when its
// output pipe is gone.
func dieWithParent(*exec.Cmd) {}
