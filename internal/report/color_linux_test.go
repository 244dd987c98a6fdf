package report

import (
	"fmt"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// This test needs a real terminal, so it opens a pseudo-terminal; Linux is
// where CI runs it.
func TestColorReadsNoColorFromTheEnvironment(t *testing.T) {
	tty := openTerminal(t)
	t.Setenv("NO_COLOR", "")
	if !Color(tty, "text") {
		t.Error("text to a terminal with NO_COLOR empty is not coloured")
	}
	if Color(tty, "json") {
		t.Error("json to a terminal is coloured")
	}
	t.Setenv("NO_COLOR", "1")
	if Color(tty, "text") {
		t.Error("text to a terminal with NO_COLOR=1 is coloured")
	}
}

// openTerminal returns the follower side of a new pseudo-terminal, or
// skips the test where there is none (a sandbox without /dev/pts).
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	leader, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { leader.Close() })
	fd := int(leader.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlocking the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("naming the pseudo-terminal: %v", err)
	}
	follower, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("opening the pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { follower.Close() })
	return follower
}
