package live

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/yamlguard"
)

// Snapshot file format (envctl.dev/v1): a first YAML document, the header,
// then "---" and the objects as a YAML stream. The header is an object of
// its own kind, so the file stays a YAML stream any tool reads; `kubectl
// apply -f` of it fails on that kind, which is right for a file whose
// Secrets hold digests, not values.
const (
	SnapshotAPIVersion = "envctl.dev/v1"
	SnapshotKind       = "Snapshot"
)

// SnapshotHeader is what a snapshot says about itself: whose it is, what
// was read, and what the rest of the file holds, so that a file that is
// not what it claims is refused rather than read as drift.
type SnapshotHeader struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	// Environment is the environment the snapshot was taken of.
	Environment string `yaml:"environment"`
	// TakenAt is when (RFC 3339, UTC).
	TakenAt string `yaml:"takenAt"`
	// Namespaces, Selector and Kinds are what was read.
	Namespaces []string `yaml:"namespaces"`
	Selector   string   `yaml:"selector,omitempty"`
	Kinds      []string `yaml:"kinds"`
	// Objects is how many objects follow the header.
	Objects int `yaml:"objects"`
	// SHA256 is the hex SHA-256 of the bytes after the header's "---"
	// line: a file cut short or edited is told from the original.
	SHA256 string `yaml:"sha256"`
	// SecretDigests names the scheme of the Secret values' digests.
	SecretDigests string `yaml:"secretDigests"`
}

// EncodeSnapshot writes h, completed with the object count and checksum,
// and objs as a snapshot file.
func EncodeSnapshot(h *SnapshotHeader, objs []*yaml.RNode) ([]byte, error) {
	var body bytes.Buffer
	if err := (kio.ByteWriter{Writer: &body}).Write(objs); err != nil {
		return nil, err
	}
	h.APIVersion, h.Kind, h.Metadata.Name = SnapshotAPIVersion, SnapshotKind, h.Environment
	h.Objects = len(objs)
	sum := sha256.Sum256(body.Bytes())
	h.SHA256 = hex.EncodeToString(sum[:])
	head, err := yaml.Marshal(h)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# envctl snapshot of environment %s: the live objects, read-only.\n", h.Environment)
	fmt.Fprintf(&buf, "# Secret values are digests (%s), never values.\n", h.SecretDigests)
	fmt.Fprintf(&buf, "# Compare with: envctl diff %s --live FILE\n", h.Environment)
	buf.Write(head)
	buf.WriteString("---\n")
	buf.Write(body.Bytes())
	return buf.Bytes(), nil
}

// SnapshotFile is one file given to --live.
type SnapshotFile struct {
	Path string
	// Header is nil for a file without one: an older envctl's snapshot,
	// a `kubectl get -o yaml` dump, a hand-written file.
	Header *SnapshotHeader
	// Objects are the file's objects, a List's items in its place.
	Objects []*yaml.RNode
	// Damage says why the file is not what its header claims (count or
	// checksum); "" when it is.
	Damage string
	// KeyIDs are the keys its HMAC digests were made with.
	KeyIDs []string
	// Named is true for a file named on the command line, false for one
	// found in a directory.
	Named bool
}

// SnapshotError is a --live file that cannot be read as a snapshot.
type SnapshotError struct {
	Path string
	Err  error
}

func (e *SnapshotError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *SnapshotError) Unwrap() error { return e.Err }

// ReadSnapshots reads snapshot files; a directory contributes every
// *.yaml, *.yml and *.json file under it. A file larger than maxBytes
// (yamlguard.DefaultMaxBytes when 0), or one that is empty, binary, does
// not parse, holds no object, or holds a malformed List, is an error
// naming it: read as a snapshot it would report everything missing.
func ReadSnapshots(maxBytes int64, paths ...string) ([]*SnapshotFile, error) {
	var out []*SnapshotFile
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		files := []string{p}
		if st.IsDir() {
			if files, err = manifest.Files(filesys.MakeFsOnDisk(), p); err != nil {
				return nil, err
			}
			if len(files) == 0 {
				return nil, &SnapshotError{p, errors.New("directory holds no .yaml, .yml or .json file")}
			}
		}
		for _, f := range files {
			b, err := yamlguard.ReadFile(f, maxBytes)
			if err != nil {
				if yamlguard.IsRefusal(err) {
					return nil, &SnapshotError{f, err}
				}
				return nil, err
			}
			sf, err := ParseSnapshot(f, b)
			if err != nil {
				return nil, err
			}
			sf.Named = !st.IsDir()
			out = append(out, sf)
		}
	}
	return out, nil
}

// ParseSnapshot reads one snapshot file's content.
func ParseSnapshot(path string, data []byte) (*SnapshotFile, error) {
	fail := func(format string, args ...any) (*SnapshotFile, error) {
		return nil, &SnapshotError{path, fmt.Errorf(format, args...)}
	}
	if bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data) {
		return fail("binary data, not a YAML or JSON snapshot")
	}
	if onlyComments(data) {
		return fail("empty: no header and no object")
	}
	sf := &SnapshotFile{Path: path}
	body := data
	if head, rest, ok := splitHeader(data); ok {
		h, err := parseHeader(head)
		if err != nil {
			return fail("%w", err)
		}
		if h != nil {
			sf.Header, body = h, rest
		}
	}
	objs, err := parseObjects(body)
	if err != nil {
		return fail("%w", err)
	}
	sf.Objects = objs
	if sf.Header == nil && len(objs) == 0 {
		return fail("holds no object")
	}
	if h := sf.Header; h != nil {
		sum := sha256.Sum256(body)
		switch {
		case h.Objects != len(objs):
			sf.Damage = fmt.Sprintf("its header counts %d object(s), the file holds %d: truncated or edited since envctl wrote it", h.Objects, len(objs))
		case !strings.EqualFold(h.SHA256, hex.EncodeToString(sum[:])):
			sf.Damage = "its content does not match the header's sha256: truncated or edited since envctl wrote it"
		}
	}
	for _, o := range objs {
		if !isSecret(o) {
			continue
		}
		vals, err := secretValues(o)
		if err != nil {
			return fail("Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		for _, k := range slices.Sorted(maps.Keys(vals)) {
			d, err := parseDigest(vals[k])
			switch {
			case err == errNotDigest:
			case err != nil:
				return fail("Secret %s/%s: data.%s: %w", o.GetNamespace(), o.GetName(), k, err)
			case d.keyID != "" && !slices.Contains(sf.KeyIDs, d.keyID):
				sf.KeyIDs = append(sf.KeyIDs, d.keyID)
			}
		}
	}
	return sf, nil
}

// onlyComments reports whether data holds nothing but blank lines,
// comments and document markers.
func onlyComments(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		l := strings.TrimSpace(line)
		if l != "" && !strings.HasPrefix(l, "#") && l != "---" && l != "..." {
			return false
		}
	}
	return true
}

// splitHeader cuts data at its first "---" line that follows content:
// the header document and the body after the marker line.
func splitHeader(data []byte) (head, body []byte, ok bool) {
	seen := false
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		l := strings.TrimSpace(string(data[off:next]))
		if l == "---" && seen {
			return data[:off], data[next:], true
		}
		if l != "" && !strings.HasPrefix(l, "#") && l != "---" {
			seen = true
		}
		off = next
	}
	return nil, nil, false
}

// parseHeader returns the header in head, nil when head is an ordinary
// object (a file without a header).
func parseHeader(head []byte) (*SnapshotHeader, error) {
	var probe struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if yaml.Unmarshal(head, &probe) != nil || probe.Kind != SnapshotKind || !strings.HasPrefix(probe.APIVersion, "envctl.dev/") {
		return nil, nil
	}
	if probe.APIVersion != SnapshotAPIVersion {
		return nil, fmt.Errorf("snapshot format %s is not one this envctl reads (%s): use the envctl that wrote it", probe.APIVersion, SnapshotAPIVersion)
	}
	h := &SnapshotHeader{}
	if err := yaml.Unmarshal(head, h); err != nil {
		return nil, fmt.Errorf("snapshot header: %w", err)
	}
	if h.Environment == "" {
		return nil, errors.New("snapshot header names no environment")
	}
	return h, nil
}

// parseObjects reads the objects of a stream; a List contributes its
// items, each of which must be an object.
func parseObjects(body []byte) ([]*yaml.RNode, error) {
	if err := yamlguard.Check(body); err != nil {
		return nil, err
	}
	// Lists are unwrapped here, not by kio, which passes a malformed one
	// through as something else.
	nodes, err := (&kio.ByteReader{Reader: bytes.NewReader(body), OmitReaderAnnotations: true, DisableUnwrapping: true}).Read()
	if err != nil {
		return nil, fmt.Errorf("not a valid YAML or JSON stream (truncated?): %w", err)
	}
	var out []*yaml.RNode
	for i, n := range nodes {
		if n.YNode().Kind != yaml.MappingNode {
			return nil, fmt.Errorf("document %d is not an object", i+1)
		}
		if n.GetKind() == SnapshotKind && strings.HasPrefix(n.GetApiVersion(), "envctl.dev/") {
			return nil, fmt.Errorf("document %d is a second snapshot header: two snapshots in one file?", i+1)
		}
		if n.GetKind() == "List" {
			items := n.Field("items")
			if items == nil || items.Value == nil || items.Value.YNode().Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("document %d: kind List without an items list", i+1)
			}
			elems, _ := items.Value.Elements()
			for j, e := range elems {
				if e.YNode().Kind != yaml.MappingNode || e.GetKind() == "" || e.GetApiVersion() == "" {
					return nil, fmt.Errorf("document %d: List items[%d] has no apiVersion/kind", i+1, j)
				}
				out = append(out, e)
			}
			continue
		}
		if n.GetKind() == "" || n.GetApiVersion() == "" {
			return nil, fmt.Errorf("document %d has no apiVersion/kind", i+1)
		}
		out = append(out, n)
	}
	return out, nil
}

// SelectOptions say how strictly SelectSnapshot takes files.
type SelectOptions struct {
	// Any takes files whose header does not vouch for them: another
	// environment's, damaged, or without a header (--live-any).
	Any bool
	// Several is true when files are shared among several environments
	// (diff --all): each takes the files whose header names it.
	Several bool
	// Hasher checks the digests.
	Hasher Hasher
}

// SelectSnapshot returns the snapshot of env among files, and warnings
// for what opts.Any let through. Without Any, a file named on the command
// line must be env's, undamaged, with a header; files in a directory, or
// shared among several environments, are env's when their header says so.
func SelectSnapshot(files []*SnapshotFile, env string, opts SelectOptions) (*Snapshot, []string, error) {
	const hint = "; pass --live-any to compare with it anyway"
	s := &Snapshot{Hasher: opts.Hasher}
	var warnings, others []string
	for _, f := range files {
		h := f.Header
		switch {
		case h == nil && opts.Several:
			return nil, nil, &SnapshotError{f.Path, errors.New("has no envctl snapshot header, so it names no environment: --live with several environments takes each one's snapshot by its header; take snapshots with 'envctl snapshot ENV -o FILE'")}
		case h == nil && !opts.Any:
			return nil, nil, &SnapshotError{f.Path, fmt.Errorf("has no envctl snapshot header (a `kubectl get -o yaml` dump, or a snapshot of envctl before snapshot headers): nothing says it is %s's, what was read, or that it is complete; take it with 'envctl snapshot %s -o FILE'%s", env, env, hint)}
		case h == nil:
			warnings = append(warnings, fmt.Sprintf("%s has no snapshot header: compared with %s as it is (--live-any)", f.Path, env))
		case h.Environment != env && (opts.Several || !f.Named):
			others = append(others, fmt.Sprintf("%s is %s's", f.Path, h.Environment))
			continue
		case h.Environment != env && !opts.Any:
			return nil, nil, &SnapshotError{f.Path, fmt.Errorf("is a snapshot of environment %s, not %s%s", h.Environment, env, hint)}
		case h.Environment != env:
			warnings = append(warnings, fmt.Sprintf("%s is a snapshot of %s: compared with %s (--live-any)", f.Path, h.Environment, env))
		}
		if f.Damage != "" {
			if !opts.Any {
				return nil, nil, &SnapshotError{f.Path, errors.New(f.Damage + hint)}
			}
			warnings = append(warnings, fmt.Sprintf("%s: %s; compared anyway (--live-any)", f.Path, f.Damage))
		}
		for _, id := range f.KeyIDs {
			if err := opts.Hasher.checkKeyID(id); err != nil {
				return nil, nil, &SnapshotError{f.Path, err}
			}
		}
		s.Files = append(s.Files, f.Path)
		s.Objects = append(s.Objects, f.Objects...)
		s.vouched = s.vouched || h != nil && h.Environment == env
	}
	if len(s.Files) == 0 {
		msg := "no snapshot of environment " + env + " among the --live files"
		if len(others) > 0 {
			msg += " (" + strings.Join(others, ", ") + ")"
		}
		return nil, nil, errors.New(msg)
	}
	if err := s.checkDuplicates(files); err != nil {
		return nil, nil, err
	}
	return s, warnings, nil
}

// checkDuplicates refuses an object in two of the snapshot's files (two
// snapshots of one environment in a directory): which one is live?
func (s *Snapshot) checkDuplicates(files []*SnapshotFile) error {
	seen := map[string]string{}
	for _, f := range files {
		if !slices.Contains(s.Files, f.Path) {
			continue
		}
		for _, o := range f.Objects {
			id := o.GetApiVersion() + " " + o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
			if prev, ok := seen[id]; ok && prev != f.Path {
				return &SnapshotError{f.Path, fmt.Errorf("%s is also in %s: two snapshots of one environment? Pass the one to compare with", id, prev)}
			}
			seen[id] = f.Path
		}
	}
	return nil
}

// Snapshot is a Source that serves objects read from snapshot files.
type Snapshot struct {
	Objects []*yaml.RNode
	// Files are the files the objects come from, for errors.
	Files []string
	// Hasher checks the Secret digests.
	Hasher Hasher
	// vouched is true when a header names the environment compared: then
	// a snapshot with no object of it is a capture of an empty
	// environment, not a wrong file.
	vouched bool
}

// NoMatchError is a snapshot none of whose objects is the environment's:
// compared, it would report every object missing.
type NoMatchError struct {
	Files []string
	Held  int
	Query Query
}

func (e *NoMatchError) Error() string {
	sel := e.Query.Selector
	if sel == "" {
		sel = "none"
	}
	return fmt.Sprintf("%s: none of its %d object(s) is of the environment's kinds in its namespaces (%s) with its selector (%s): a snapshot of another environment or cluster?",
		strings.Join(e.Files, ", "), e.Held, strings.Join(e.Query.Namespaces, ", "), sel)
}

// Read implements Source: the snapshot's objects of the queried kinds and
// namespaces that match the selector, as a LIST would have returned them.
func (s *Snapshot) Read(_ context.Context, _ Target, q Query) (*Result, error) {
	sel, err := labels.Parse(q.Selector)
	if err != nil {
		return nil, fmt.Errorf("selector %q: %w", q.Selector, err)
	}
	kinds := map[string]bool{}
	for _, k := range q.Kinds {
		kinds[k.Group+"/"+k.Kind] = true
	}
	nss := map[string]bool{"": true}
	for _, ns := range q.Namespaces {
		nss[ns] = true
	}
	res := &Result{Digests: &s.Hasher}
	// Namespaced objects decide whether the file is the environment's: a
	// cluster-scoped one (a Namespace with the same labels) matches
	// another environment's snapshot too.
	held, matched := 0, 0
	for _, o := range s.Objects {
		if o.GetNamespace() != "" {
			held++
		}
	}
	for _, o := range s.Objects {
		gv, _ := schema.ParseGroupVersion(o.GetApiVersion())
		if !kinds[gv.Group+"/"+o.GetKind()] || !nss[o.GetNamespace()] || !sel.Matches(labels.Set(o.GetLabels())) {
			continue
		}
		if o.GetNamespace() != "" || held == 0 {
			matched++
		}
		res.Objects = append(res.Objects, o.Copy())
	}
	if matched == 0 && (len(s.Objects) > 0 || !s.vouched) {
		return nil, &NoMatchError{Files: s.Files, Held: len(s.Objects), Query: q}
	}
	SortObjects(res.Objects)
	return res, nil
}

// DefaultNamespace implements Source.
func (s *Snapshot) DefaultNamespace(context.Context, Target) (string, error) {
	return "default", nil
}
