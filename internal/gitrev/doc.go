// Package gitrev reads the tree of a git revision in memory, as a
// read-only kyaml filesys.FileSystem, so that the renderer renders a
// revision exactly as it renders the working tree: same paths, same
// render cache, no checkout and nothing written.
//
// It uses git's own plumbing (rev-parse, ls-tree, cat-file --batch) rather
// than a reimplementation, for the same reason repo.Git does: the user's
// git understands every repository layout they have (linked worktrees,
// partial and shallow clones, alternates, SHA-256 object formats, every
// revision syntax such as origin/main, HEAD~1, v1.2^{commit} or @{u}), and
// envctl's binary stays the size it is.
//
// Paths outside the repository's top level, and files git ignores (a
// gitignored .env beside a secretGenerator), are not versioned, so they
// are the same at every revision: they are read from disk.
package gitrev
