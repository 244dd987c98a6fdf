package overlay

import (
	"bufio"
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/internal/manifest"
)

// Cause is what made a render fail, named the way a user fixes it: the
// kustomization file, the field in it and what is wrong there. Render
// finds it, after kustomize has failed, by reading the kustomization
// files itself: kustomize's own message for the same mistake is a chain
// of several hundred characters whose first words are about something
// else ("accumulating resources: accumulation err=…", "evalsymlink
// failure", an env file's line in decimal bytes).
type Cause struct {
	// File is the kustomization holding the field, joined onto the
	// directory given to Render (absolute when that is).
	File string
	// Field is where in File, as a path a user finds by eye:
	// `patches[2]`, `configMapGenerator[0] "app-config": envs[0] "app.env"`;
	// empty when the problem is the whole file.
	Field string
	// Problem says what is wrong. It never holds a value from a
	// secretGenerator's sources.
	Problem string
}

func (c *Cause) String() string {
	if c.Field == "" {
		return fmt.Sprintf("%s: %s", c.File, c.Problem)
	}
	return fmt.Sprintf("%s: %s: %s", c.File, c.Field, c.Problem)
}

// maxCauseVisits bounds the kustomizations the search for a cause reads.
// Kustomize renders a base once per path that includes it, and so does
// the search; a diamond-heavy tree could otherwise take exponential time
// to explain a failure.
const maxCauseVisits = 10000

// causeSearch walks the local kustomizations of a failed render in the
// order kustomize does (resources and bases, generators, components,
// patches), and stops at the first mistake it recognises that kustomize
// also ran into.
type causeSearch struct {
	fsys filesys.FileSystem // the filesystem without the recorder
	rec  *recorder
	// cycle is set when kustomize reported a cycle; without it a
	// reference back up the tree is not reported, only not followed.
	cycle  bool
	visits int
	// invalidLiteral is set when kustomize refused a literal source.
	invalidLiteral bool
	// secretLine is the env-file line of a Secret that kustomize quotes
	// in its message; Render removes it from that message.
	secretLine []byte
}

// cause finds why the render of dir failed with kerr, or returns nil when
// it cannot tell; kustomize's message then stands alone.
func (r *recorder) cause(dir string, kerr error) (*Cause, []byte) {
	s := &causeSearch{fsys: r.FileSystem, rec: r, cycle: strings.Contains(kerr.Error(), "cycle detected"),
		invalidLiteral: strings.Contains(kerr.Error(), "invalid literal source")}
	c := s.kustomization(dir, nil)
	return c, s.secretLine
}

// kustomization checks the kustomization in dir and what it includes.
// stack holds the directories on the way from the render's directory to
// dir, as kustomize compares them (see key).
func (s *causeSearch) kustomization(dir string, stack []string) *Cause {
	s.visits++
	if s.visits > maxCauseVisits {
		return nil
	}
	file, k := s.read(dir)
	if k == nil {
		return nil // kustomize reports a missing or broken kustomization itself
	}
	stack = append(stack, s.key(dir))
	for _, list := range []struct {
		field string
		refs  []string
	}{{"resources", k.Resources}, {"bases", k.Bases}} {
		for i, ref := range list.refs {
			if c := s.ref(file, fmt.Sprintf("%s[%d]", list.field, i), dir, ref, stack); c != nil {
				return c
			}
		}
	}
	for i, g := range k.ConfigMapGenerator {
		if c := s.generator(file, fmt.Sprintf("configMapGenerator[%d] %q", i, g.Name), dir, g.KvPairSources, false); c != nil {
			return c
		}
	}
	for i, g := range k.SecretGenerator {
		if c := s.generator(file, fmt.Sprintf("secretGenerator[%d] %q", i, g.Name), dir, g.KvPairSources, true); c != nil {
			return c
		}
	}
	for i, ref := range k.Components {
		if c := s.ref(file, fmt.Sprintf("components[%d]", i), dir, ref, stack); c != nil {
			return c
		}
	}
	for i, p := range k.PatchesStrategicMerge {
		// An entry is a file name or an inline patch; only a file name is
		// a single line.
		if !strings.Contains(string(p), "\n") {
			if c := s.file(file, fmt.Sprintf("patchesStrategicMerge[%d]", i), dir, string(p)); c != nil {
				return c
			}
		}
	}
	for _, list := range []struct {
		field   string
		patches []types.Patch
	}{{"patches", k.Patches}, {"patchesJson6902", k.PatchesJson6902}} {
		for i, p := range list.patches {
			if p.Path == "" {
				continue // an inline patch
			}
			if c := s.file(file, fmt.Sprintf("%s[%d]", list.field, i), dir, p.Path); c != nil {
				return c
			}
		}
	}
	return nil
}

// read parses the kustomization in dir with kustomize's own types, as
// written (deprecated fields are not folded into their successors, so
// that a field's index is the one in the file).
func (s *causeSearch) read(dir string) (string, *types.Kustomization) {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		p := filepath.Join(dir, n)
		b, err := s.fsys.ReadFile(p)
		if err != nil {
			continue
		}
		var k types.Kustomization
		if yaml.Unmarshal(b, &k) != nil {
			return "", nil
		}
		return p, &k
	}
	return "", nil
}

// key is the directory as kustomize compares it for cycles: absolute,
// symbolic links resolved.
func (s *causeSearch) key(dir string) string {
	if d, _, err := s.fsys.CleanedAbs(dir); err == nil {
		return string(d)
	}
	return filepath.Clean(dir)
}

// ref checks one entry of resources, bases or components: it must exist,
// and a directory must not lead back up the way the render came.
func (s *causeSearch) ref(file, field, dir, ref string, stack []string) *Cause {
	if IsRemote(ref) {
		return nil
	}
	path := filepath.Join(dir, ref)
	if !s.fsys.Exists(path) {
		if s.rec.asked(path) {
			return &Cause{File: file, Field: field, Problem: fmt.Sprintf("%q does not exist", ref)}
		}
		return nil
	}
	if !s.fsys.IsDir(path) {
		return nil
	}
	// Kustomize refuses a directory that is, or holds, one it is already
	// inside: "cycle detected: candidate root … contains visited root".
	key := s.key(path)
	for i := len(stack) - 1; i >= 0; i-- {
		if !containsDir(key, stack[i]) {
			continue
		}
		if !s.cycle {
			return nil
		}
		return &Cause{File: file, Field: field, Problem: "cycle: " + cycleText(append(stack[i:len(stack):len(stack)], key))}
	}
	return s.kustomization(path, stack)
}

// containsDir reports whether dir is outer or below it, as kustomize's
// ConfirmedDir.HasPrefix does.
func containsDir(outer, dir string) bool {
	return outer == dir || outer == string(filepath.Separator) || strings.HasPrefix(dir, outer+string(filepath.Separator))
}

// cycleText shows a cycle, the directories kustomize went through and
// the one it refused, relative to the deepest directory that holds them
// all: "environments/dev -> base -> environments/dev", or "a -> b -> a"
// for the tree of testdata/bad/cycle.
func cycleText(loop []string) string {
	common := filepath.Dir(loop[0])
	for _, d := range loop {
		for !containsDir(common, filepath.Dir(d)) {
			common = filepath.Dir(common)
		}
	}
	names := make([]string, len(loop))
	for i, d := range loop {
		names[i] = d
		if r, err := filepath.Rel(common, d); err == nil {
			names[i] = filepath.ToSlash(r)
		}
	}
	text := strings.Join(names, " -> ")
	if last := loop[len(loop)-1]; last != loop[0] {
		// Kustomize also refuses a directory that holds one it is in.
		text += fmt.Sprintf(", which holds %s", names[0])
	}
	return text
}

// file checks a file a kustomization names (a patch): kustomize asked
// for it and it does not exist.
func (s *causeSearch) file(file, field, dir, ref string) *Cause {
	path := filepath.Join(dir, ref)
	if !s.fsys.Exists(path) && s.rec.asked(path) {
		return &Cause{File: file, Field: field, Problem: fmt.Sprintf("file %q does not exist", ref)}
	}
	return nil
}

// generator checks the files a ConfigMap or Secret generator reads, in
// kustomize's order: env files, then files.
func (s *causeSearch) generator(file, field, dir string, src types.KvPairSources, secret bool) *Cause {
	envs := src.EnvSources
	names := make([]string, len(envs))
	for i := range envs {
		names[i] = fmt.Sprintf("envs[%d]", i)
	}
	if src.EnvSource != "" {
		// kustomize appends the older, singular field to envs.
		envs = append(envs, src.EnvSource)
		names = append(names, "env")
	}
	for i, ref := range envs {
		at := fmt.Sprintf("%s: %s %q", field, names[i], ref)
		path := filepath.Join(dir, ref)
		if !s.rec.asked(path) {
			continue
		}
		b, err := s.fsys.ReadFile(path)
		if err != nil {
			if !s.fsys.Exists(path) {
				return &Cause{File: file, Field: at, Problem: "file does not exist"}
			}
			continue
		}
		if n, col, line := invalidEnvLine(b); n > 0 {
			if secret {
				s.secretLine = line
			}
			return &Cause{File: file, Field: at, Problem: fmt.Sprintf("line %d: byte %d is not valid UTF-8", n, col)}
		}
	}
	for i, lit := range src.LiteralSources {
		// kustomize: "invalid literal source LITERAL, expected key=value".
		if !strings.Contains(lit, "=") && s.invalidLiteral {
			problem := fmt.Sprintf("%q is not KEY=VALUE", lit)
			if secret {
				problem = "not KEY=VALUE (the literal is not shown: it is a Secret's)"
			}
			return &Cause{File: file, Field: fmt.Sprintf("%s: literals[%d]", field, i), Problem: problem}
		}
	}
	for i, entry := range src.FileSources {
		// "key=path" or "path"; kustomize rejects other forms itself.
		ref := entry
		if k, p, ok := strings.Cut(entry, "="); ok && k != "" && p != "" && !strings.Contains(p, "=") {
			ref = p
		}
		path := filepath.Join(dir, ref)
		if !s.fsys.Exists(path) && s.rec.asked(path) {
			return &Cause{File: file, Field: fmt.Sprintf("%s: files[%d] %q", field, i, entry), Problem: "file does not exist"}
		}
	}
	return nil
}

// invalidEnvLine finds the first line of an env file that is not UTF-8,
// reading lines as kustomize does (bufio.Scanner), and returns its
// 1-based number, the 1-based position of the first bad byte in it, and
// the line itself; 0 when every line is valid.
func invalidEnvLine(content []byte) (int, int, []byte) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if utf8.Valid(line) {
			continue
		}
		for i := 0; i < len(line); {
			r, size := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && size == 1 {
				return n, i + 1, append([]byte(nil), line...)
			}
			i += size
		}
	}
	return 0, 0, nil
}

// concealLine removes from kustomize's message the env-file line it
// quotes (in decimal bytes and as text) when that line belongs to a
// Secret. If kustomize's wording is not the one expected, the whole
// message is withheld rather than risk printing the value.
func concealLine(msg string, line []byte) string {
	quoted := fmt.Sprintf("line %d has invalid utf8 bytes : %v", line, string(line))
	if strings.Contains(msg, quoted) {
		return strings.Replace(msg, quoted, "a line has invalid utf8 bytes (not shown: it is a Secret's)", 1)
	}
	return "(message not shown: it quotes a Secret's env file)"
}

// asked reports whether kustomize asked the filesystem anything about
// path during the render. A missing file is the cause of a failure only
// if kustomize went looking for it: it stops at its first error, so a
// later mistake in the tree has not been reached.
func (r *recorder) asked(path string) bool {
	path = filepath.Clean(path)
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range r.order {
		if k.op != OpGlob && k.op != OpWalk && filepath.Clean(k.path) == path {
			return true
		}
	}
	return false
}

// RelativeTo rewrites the cause's file relative to root (the repository),
// the way a user names it, when the file is under root.
func (e *Error) RelativeTo(root string) {
	if e.Cause == nil || root == "" {
		return
	}
	e.Cause.File = manifest.RelPath(root, e.Cause.File)
}
