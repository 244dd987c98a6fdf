package gitrev

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// NotRepositoryError is a directory that is not inside a git work tree.
type NotRepositoryError struct{ Dir string }

func (e *NotRepositoryError) Error() string {
	return fmt.Sprintf("%s is not in a git repository: --rev compares with a git revision", e.Dir)
}

// UnknownRevisionError is a revision git cannot resolve to a commit.
type UnknownRevisionError struct {
	Rev string
	// Shallow is set when the repository is a shallow clone: the commit
	// may exist upstream and simply not have been fetched.
	Shallow bool
}

func (e *UnknownRevisionError) Error() string {
	if e.Shallow {
		return fmt.Sprintf("revision %q is not in this shallow clone: fetch the history first (git fetch --unshallow; in GitHub Actions, actions/checkout with fetch-depth: 0)", e.Rev)
	}
	return fmt.Sprintf("unknown revision %q: not a commit, branch or tag of this repository", e.Rev)
}

// NoGitError is returned when the git command is not installed.
type NoGitError struct{ Err error }

func (e *NoGitError) Error() string {
	return "--rev needs the git command, which is not installed: " + e.Err.Error()
}
func (e *NoGitError) Unwrap() error { return e.Err }

// entry is one path of the revision's tree.
type entry struct {
	mode string // git mode: 100644, 100755, 120000 (symlink), 160000 (submodule)
	oid  string
	size int64
}

func (e entry) symlink() bool   { return e.mode == "120000" }
func (e entry) submodule() bool { return e.mode == "160000" }

// Open reads revision rev of the git repository that holds root (an
// absolute directory) and returns its tree as a file system. Paths are
// spelled as root spells them, so a render of root/environments/prod at
// rev asks the same questions as one of the working tree. Close it when
// done: it keeps one git process to read file contents.
func Open(ctx context.Context, root, rev string) (*Tree, error) {
	if rev == "" || strings.HasPrefix(rev, "-") {
		return nil, &UnknownRevisionError{Rev: rev}
	}
	cdup, err := git(ctx, root, "rev-parse", "--show-cdup")
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && strings.Contains(strings.ToLower(ge.stderr), "not a git repository") {
			return nil, &NotRepositoryError{Dir: root}
		}
		return nil, err
	}
	top := filepath.Clean(filepath.Join(root, strings.TrimSpace(string(cdup))))
	commit, err := git(ctx, root, "rev-parse", "--verify", "--quiet", "--end-of-options", rev+"^{commit}")
	if err != nil {
		var ge *gitError
		if !errors.As(err, &ge) {
			return nil, err
		}
		shallow, _ := git(ctx, root, "rev-parse", "--is-shallow-repository")
		return nil, &UnknownRevisionError{Rev: rev, Shallow: strings.TrimSpace(string(shallow)) == "true"}
	}
	t := &Tree{Rev: rev, Commit: strings.TrimSpace(string(commit)), top: top, files: map[string]entry{}, dirs: map[string][]string{"": nil}, blobs: map[string][]byte{}}
	list, err := git(ctx, top, "ls-tree", "-r", "-l", "-z", "--full-tree", t.Commit)
	if err != nil {
		var ge *gitError
		if errors.As(err, &ge) && t.shallowMissing(ctx) {
			return nil, &UnknownRevisionError{Rev: rev, Shallow: true}
		}
		return nil, fmt.Errorf("reading the tree of %s: %w", rev, err)
	}
	if err := t.index(list); err != nil {
		return nil, fmt.Errorf("reading the tree of %s: %w", rev, err)
	}
	// Ignored files and directories (collapsed): read from disk.
	ign, err := git(ctx, top, "ls-files", "-z", "--others", "--ignored", "--exclude-standard", "--directory")
	if err != nil {
		return nil, fmt.Errorf("listing ignored files: %w", err)
	}
	for _, p := range strings.Split(string(ign), "\x00") {
		if p != "" {
			t.ignored = append(t.ignored, strings.TrimSuffix(p, "/"))
		}
	}
	t.cat = &catFile{dir: top}
	return t, nil
}

// shallowMissing reports whether the repository is shallow, so that a
// commit whose tree cannot be read was cut off by the shallow boundary.
func (t *Tree) shallowMissing(ctx context.Context) bool {
	out, _ := git(ctx, t.top, "rev-parse", "--is-shallow-repository")
	return strings.TrimSpace(string(out)) == "true"
}

// index parses `git ls-tree -r -l -z` output:
// "<mode> SP <type> SP <oid> SP+ <size> TAB <path> NUL".
func (t *Tree) index(list []byte) error {
	for _, rec := range bytes.Split(list, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, path, ok := bytes.Cut(rec, []byte{'\t'})
		if !ok {
			return fmt.Errorf("unexpected ls-tree line %q", rec)
		}
		f := strings.Fields(string(meta))
		if len(f) != 4 {
			return fmt.Errorf("unexpected ls-tree line %q", rec)
		}
		e := entry{mode: f[0], oid: f[2]}
		if f[3] != "-" {
			e.size, _ = strconv.ParseInt(f[3], 10, 64)
		}
		p := string(path)
		t.files[p] = e
		t.addParents(p)
	}
	for d, names := range t.dirs {
		t.dirs[d] = sortedUnique(names)
	}
	return nil
}

func (t *Tree) addParents(p string) {
	for {
		dir, name := parentOf(p)
		_, seen := t.dirs[dir]
		t.dirs[dir] = append(t.dirs[dir], name)
		if seen || dir == "" {
			return
		}
		p = dir
	}
}

func parentOf(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// gitError is a git command that ran and failed.
type gitError struct {
	args   []string
	stderr string
	err    error
}

func (e *gitError) Error() string {
	msg := strings.TrimSpace(e.stderr)
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git %s: %s", strings.Join(e.args, " "), msg)
}

func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", dir}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, &gitError{args: args, stderr: stderr.String(), err: err}
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &NoGitError{Err: err}
	}
	return out, nil
}

// catFile is one `git cat-file --batch` process, started on first use and
// shared: a render reads hundreds of files, and one process per file
// would cost more than the render.
type catFile struct {
	dir string

	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	err error
}

func (c *catFile) read(oid string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return nil, c.err
	}
	if c.cmd == nil {
		cmd := exec.Command("git", "-C", c.dir, "cat-file", "--batch")
		in, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, err
		}
		if err := cmd.Start(); err != nil {
			c.err = &NoGitError{Err: err}
			return nil, c.err
		}
		c.cmd, c.in, c.out = cmd, in, bufio.NewReaderSize(out, 64<<10)
	}
	if _, err := io.WriteString(c.in, oid+"\n"); err != nil {
		c.err = fmt.Errorf("git cat-file: %w", err)
		return nil, c.err
	}
	head, err := c.out.ReadString('\n')
	if err != nil {
		c.err = fmt.Errorf("git cat-file: %w", err)
		return nil, c.err
	}
	f := strings.Fields(head)
	if len(f) != 3 {
		// "<oid> missing": a partial clone without the blob, or a
		// corrupt repository. The process is still usable.
		return nil, fmt.Errorf("git cat-file %s: %s", oid, strings.TrimSpace(head))
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		c.err = fmt.Errorf("git cat-file: unexpected header %q", head)
		return nil, c.err
	}
	b := make([]byte, n+1) // content and its trailing newline
	if _, err := io.ReadFull(c.out, b); err != nil {
		c.err = fmt.Errorf("git cat-file: %w", err)
		return nil, c.err
	}
	return b[:n], nil
}

func (c *catFile) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		c.in.Close()
		_ = c.cmd.Wait()
		c.cmd = nil
	}
	c.err = errors.New("closed")
}
