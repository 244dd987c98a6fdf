//go:build unix

package rendercache

import (
	"io/fs"
	"syscall"
)

// noFollow opens the key file itself, never what a planted link points at.
const noFollow = syscall.O_NOFOLLOW

// owner returns the user id that owns a file.
func owner(st fs.FileInfo) (int, bool) {
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(s.Uid), true
}
