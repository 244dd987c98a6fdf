package atomicwrite

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// tempName returns dir/PREFIX.tmp-PID-RANDOM. The process id lets a later
// run tell a temporary file of a live writer from one a killed run left.
func tempName(dir, prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return filepath.Join(dir, prefix+".tmp-"+strconv.Itoa(os.Getpid())+"-"+hex.EncodeToString(b[:]))
}

// staleAge is the age past which a temporary file is swept whatever its
// process id says: a process id can be reused, and a file written by
// another machine on a shared directory names a process of that machine.
const staleAge = 24 * time.Hour

// sweep removes the temporary files and directories in dir that envctl
// runs left behind when they were killed: ".NAME.tmp-PID-RANDOM" (and
// ".NAME.bak.tmp-…") whose process is gone, and any ".NAME.tmp-…" older
// than a day, the names of earlier envctl versions included. A live
// writer's files are never touched.
func sweep(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, ".") {
			continue
		}
		i := strings.LastIndex(name, ".tmp-")
		if i < 0 {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if time.Since(info.ModTime()) < staleAge && !ownerGone(name[i+len(".tmp-"):]) {
			continue
		}
		_ = os.RemoveAll(filepath.Join(dir, name))
	}
}

// ownerGone reports whether the process that named a temporary file
// "PID-RANDOM" has exited. A name without a process id is not judged.
func ownerGone(suffix string) bool {
	pidText, _, ok := strings.Cut(suffix, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false
	}
	if pid == os.Getpid() {
		return false
	}
	// Signal 0 checks that the process exists without touching it;
	// EPERM means it exists under another user.
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	defer p.Release()
	return errors.Is(p.Signal(syscall.Signal(0)), os.ErrProcessDone)
}
