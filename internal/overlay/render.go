package overlay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
	"sigs.k8s.io/yaml"
)

// DefaultRemoteTimeout bounds how long a render that references a remote
// base may take once the reference is seen.
const DefaultRemoteTimeout = 60 * time.Second

// Options are the knobs of one render. Every field changes what a render
// produces or whether it finishes, so the render cache keys on all of them.
type Options struct {
	// RemoteTimeout bounds a render from the moment it meets a remote base
	// (git or http). Local renders are CPU-bound and never time out.
	RemoteTimeout time.Duration
	// NoDecrypt renders SOPS-encrypted sources with their keys and a
	// placeholder for every encrypted value, for renders without keys
	// (validate on a fork's pull request). The Secrets then carry names
	// that are not those of the real render.
	NoDecrypt bool
}

// Result is one rendered kustomization.
type Result struct {
	// YAML is the multi-document stream, byte-identical to what
	// `kustomize build` prints for the same directory.
	YAML []byte
	// Objects is the number of objects in YAML.
	Objects int
	// Inputs is every question the render asked of the filesystem, with
	// a digest of each answer.
	Inputs []Observation
	// Remote lists the remote bases the render referenced.
	Remote []string
	// Decrypted lists the SOPS-encrypted files the render read (their
	// plaintext, or placeholders with Options.NoDecrypt).
	Decrypted []string
	// Placeholders is set when encrypted values were rendered as
	// placeholders (Options.NoDecrypt): the Secrets are not the real ones.
	Placeholders bool
	// wrote is set when kustomize wrote to the filesystem (git clones).
	wrote bool
}

// Cacheable reports whether the result depends only on the recorded local
// inputs and may be stored. Remote bases can change without any local file
// changing; a render that read encrypted sources holds their plaintext (in
// its Secrets' data), which must not reach the disk, so it is rendered
// again each time rather than stored encrypted: the decryption costs far
// less than the render (docs/status.md).
func (r *Result) Cacheable() bool { return len(r.Remote) == 0 && !r.wrote && len(r.Decrypted) == 0 }

// kustomizeOptions are the defaults of `kustomize build` v5 with no flags:
// the CLI leaves --reorder unset, which is "unspecified", not the library's
// "none", and that changes the output order.
func kustomizeOptions() *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionUnspecified
	return o
}

// openapiState serialises renders that set kyaml's process-global OpenAPI
// schema (the kustomization `openapi:` field, kustomize#4824). All other
// renders share it and run in parallel.
var openapiState sync.RWMutex

// RemoteTimeoutError is returned when a render that references a remote
// base does not finish in time.
type RemoteTimeoutError struct {
	Dir     string
	URL     string
	Timeout time.Duration
}

func (e *RemoteTimeoutError) Error() string {
	return fmt.Sprintf("%s: remote base %s could not be fetched within %s (is the host reachable? raise --timeout or vendor the base locally)", e.Dir, e.URL, e.Timeout)
}

// Error is a failed render; Err is kustomize's own message.
type Error struct {
	Dir string
	// File is the kustomization at fault when kustomize's message does
	// not name it.
	File   string
	Remote []string
	// Cause, when Render could tell, names the mistake by file and
	// field. The message then starts with it, and kustomize's own text
	// follows on a line of its own, prefixed "kustomize: ".
	Cause *Cause
	// Secret is set when the render stopped at an encrypted source it
	// could not decrypt: the message is envctl's alone (Cause, or Err
	// when a key source is at fault), with no kustomize line.
	Secret bool
	// Env, when set, is the environment rendered; decryption errors
	// start with it.
	Env string
	Err error
}

func (e *Error) Error() string {
	if e.Secret {
		msg := e.Err.Error()
		if e.Cause != nil {
			msg = e.Cause.String()
		}
		if e.Env != "" {
			return e.Env + ": " + msg
		}
		return msg
	}
	msg := e.Err.Error()
	for _, ref := range e.Remote {
		if !strings.Contains(msg, ref) {
			msg += fmt.Sprintf(" (the kustomization references remote base %s)", ref)
			break
		}
	}
	if e.Cause != nil {
		return e.Cause.String() + "\nkustomize: " + msg
	}
	if e.File != "" && !strings.Contains(msg, e.File) {
		return fmt.Sprintf("%s: %s", e.File, msg)
	}
	return fmt.Sprintf("%s: %s", e.Dir, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// Render renders the kustomization in dir (absolute, or relative to fsys's
// working directory) exactly as `kustomize build dir` would.
func Render(ctx context.Context, fsys filesys.FileSystem, dir string, opts Options) (*Result, error) {
	if opts.RemoteTimeout <= 0 {
		opts.RemoteTimeout = DefaultRemoteTimeout
	}
	if c := secretEnvLine(fsys, dir); c != nil {
		return nil, &Error{Dir: dir, Cause: c, Err: errors.New(c.Problem)}
	}
	remoteSeen := make(chan string, 1)
	dfs := newDecryptFS(fsys, opts.NoDecrypt)
	fsys = dfs
	rec := newRecorder(fsys, func(ref string) {
		select {
		case remoteSeen <- ref:
		default:
		}
	})
	isolate := setsOpenAPI(fsys, dir)

	type outcome struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o = outcome{err: fmt.Errorf("kustomize panicked: %v\n%s", p, debug.Stack())}
			}
			done <- o
		}()
		if isolate {
			openapiState.Lock()
			defer openapiState.Unlock()
			openapi.ResetOpenAPI()
			defer openapi.ResetOpenAPI()
		} else {
			openapiState.RLock()
			defer openapiState.RUnlock()
		}
		o.m, o.err = krusty.MakeKustomizer(kustomizeOptions()).Run(rec, dir)
	}()

	var timeout <-chan time.Time
	var firstRemote string
	for {
		select {
		case o := <-done:
			rec.mu.Lock()
			remote, wrote := append([]string(nil), rec.remote...), rec.writes
			rec.mu.Unlock()
			if o.err != nil {
				if ferr := dfs.failure(); ferr != nil {
					return nil, secretError(dir, ferr)
				}
				e := &Error{Dir: dir, Remote: remote, Err: o.err}
				if strings.Contains(o.err.Error(), "invalid Kustomization") {
					e.File = rec.brokenKustomization()
				}
				rec.mu.Lock()
				refused := rec.refused
				rec.mu.Unlock()
				msg := o.err.Error()
				if refused != nil {
					e.Cause = refused
				} else if c, secretLine := rec.cause(dir, o.err); c != nil {
					e.Cause = c
					if secretLine != nil {
						msg = concealLine(msg, secretLine)
					}
				}
				// Kustomize quotes what it could not use, which can be a
				// Secret's value (an invalid literal, a replacement's
				// "node contents"); the message goes out without any.
				if c := conceal(msg, secretValues(fsys, dir)); c != o.err.Error() {
					e.Err = errors.New(c)
				}
				return nil, e
			}
			y, err := o.m.AsYaml()
			if err != nil {
				return nil, &Error{Dir: dir, Err: err}
			}
			decrypted := dfs.decrypted()
			if opts.NoDecrypt && len(decrypted) > 0 {
				if whole := dfs.wholeManifests(); len(whole) > 0 && rendersPlaceholderKind(y) {
					we := &WholeManifestError{Files: whole}
					return nil, &Error{Dir: dir, Secret: true, Cause: &Cause{File: whole[0], Problem: we.Problem()}, Err: we}
				}
				if y, err = markPlaceholders(y); err != nil {
					return nil, &Error{Dir: dir, Err: err}
				}
			}
			return &Result{YAML: y, Objects: o.m.Size(), Inputs: dfs.scrub(rec.observations()), Remote: remote,
				Decrypted: decrypted, Placeholders: opts.NoDecrypt && len(decrypted) > 0, wrote: wrote}, nil
		case ref := <-remoteSeen:
			if timeout == nil {
				firstRemote = ref
				t := time.NewTimer(opts.RemoteTimeout)
				defer t.Stop()
				timeout = t.C
			}
		case <-timeout:
			// The render goroutine is abandoned; kustomize's git runner
			// kills its own child processes after its timeout.
			return nil, &RemoteTimeoutError{Dir: dir, URL: firstRemote, Timeout: opts.RemoteTimeout}
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// setsOpenAPI reports whether any local kustomization reachable from dir
// uses the `openapi:` field, which mutates kyaml's global schema.
func setsOpenAPI(fsys filesys.FileSystem, dir string) bool {
	found := false
	walkLocal(fsys, dir, map[string]bool{}, func(_ string, k *kustFile) bool {
		found = len(k.OpenAPI) > 0
		return !found
	})
	return found
}

// kustFile is what the walks below read from a kustomization.
type kustFile struct {
	kustRefs
	ConfigMaps []json.RawMessage `json:"configMapGenerator"`
	Secrets    []json.RawMessage `json:"secretGenerator"`
}

// walkLocal calls visit once for the kustomization in dir and once for
// each local kustomization it includes, through resources, bases and
// components. A kustomization that does not parse is skipped with what it
// includes (kustomize reports it). visit returns false to stop the walk,
// and walkLocal then returns false.
func walkLocal(fsys filesys.FileSystem, dir string, seen map[string]bool, visit func(dir string, k *kustFile) bool) bool {
	abs := filepath.Clean(dir)
	if seen[abs] {
		return true
	}
	seen[abs] = true
	var k kustFile
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		b, err := fsys.ReadFile(filepath.Join(dir, n))
		if err != nil {
			continue
		}
		if yaml.Unmarshal(b, &k) != nil {
			return true
		}
		break
	}
	if !visit(dir, &k) {
		return false
	}
	for _, ref := range k.refs() {
		sub := filepath.Join(dir, ref)
		if !IsRemote(ref) && fsys.IsDir(sub) && !walkLocal(fsys, sub, seen, visit) {
			return false
		}
	}
	return true
}

func (k *kustRefs) refs() []string {
	return append(append(append([]string(nil), k.Resources...), k.Bases...), k.Components...)
}

// EstimateObjects guesses, without rendering, how many objects the
// kustomization in dir renders: the YAML documents in its local resource
// files and those of the kustomizations it includes, plus one per
// generator. It reads only those files, so it costs a small fraction of a
// render; callers use it to decide how to run one (package worker).
func EstimateObjects(fsys filesys.FileSystem, dir string) int {
	n := 0
	walkLocal(fsys, dir, map[string]bool{}, func(dir string, k *kustFile) bool {
		n += len(k.ConfigMaps) + len(k.Secrets)
		for _, ref := range k.refs() {
			sub := filepath.Join(dir, ref)
			if IsRemote(ref) || fsys.IsDir(sub) {
				continue // remote bases are not counted; walkLocal visits directories
			}
			if b, err := fsys.ReadFile(sub); err == nil && len(bytes.TrimSpace(b)) > 0 {
				n += 1 + bytes.Count(b, []byte("\n---"))
			}
		}
		return true
	})
	return n
}
