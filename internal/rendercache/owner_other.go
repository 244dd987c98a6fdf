//go:build !unix

package rendercache

import "io/fs"

const noFollow = 0

// owner is unknown off Unix; the mode check still applies.
func owner(fs.FileInfo) (int, bool) { return 0, false }
