package repo

import (
	"bytes"
	"context"
	"os/exec"
	"time"
)

// GitState is the repository's commit and whether its work tree has
// changes, for the release record. Both are empty when root is not in a
// git work tree or git is not installed: a release is still recorded.
type GitState struct {
	Commit string
	Dirty  bool
}

// Git reads root's git state with the git command: the same answer as
// the user's own `git status`, including their .gitignore and
// core.excludesFile, which a reimplementation would have to follow.
func Git(ctx context.Context, root string) GitState {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		return GitState{}
	}
	st := GitState{Commit: string(bytes.TrimSpace(out))}
	status, err := exec.CommandContext(ctx, "git", "-C", root, "status", "--porcelain", "--untracked-files=normal", "--", ".").Output()
	st.Dirty = err != nil || len(bytes.TrimSpace(status)) > 0
	return st
}
