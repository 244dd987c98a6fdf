package overlay

import (
	"errors"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/envctl/envctl/internal/secrets"
)

// decryptFS answers kustomize's reads of SOPS-encrypted files with their
// plaintext, decrypted in memory: a secretGenerator's envs and files and
// Secret manifests among the resources need no new syntax, and so stay
// valid for Flux, which decrypts the same files in the cluster. Kustomize
// hashes what it reads, so a generated Secret's name is a hash of the
// plaintext and re-encrypting a file changes nothing downstream.
//
// It sits below the recorder, so kustomize, the cause search and the
// concealing of values in error messages all see the plaintext; the
// render's recorded inputs are given the ciphertext's digests afterwards
// (scrub), and a render that decrypted anything is never cached
// (Result.Cacheable): plaintext never reaches the disk.
type decryptFS struct {
	filesys.FileSystem
	noDecrypt bool
	keys      func() (*secrets.Keyring, error)

	mu    sync.Mutex
	plain map[string][]byte // path: plaintext (or placeholders)
	// cipher maps each decrypted path to the digest of its ciphertext,
	// the answer the render's inputs record for it.
	cipher map[string]string
	order  []string
	whole  map[string]bool // see wholeManifests
	failed error           // the first file that could not be decrypted
}

func newDecryptFS(fsys filesys.FileSystem, noDecrypt bool) *decryptFS {
	return &decryptFS{FileSystem: fsys, noDecrypt: noDecrypt, keys: secrets.LoadKeys, plain: map[string][]byte{}, cipher: map[string]string{}, whole: map[string]bool{}}
}

func (d *decryptFS) ReadFile(path string) ([]byte, error) {
	b, err := d.FileSystem.ReadFile(path)
	if err != nil || !secrets.IsEncrypted(path, b) {
		return b, err
	}
	d.mu.Lock()
	p, ok := d.plain[path]
	d.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err = d.decrypt(path, b)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		if d.failed == nil {
			d.failed = err
		}
		return nil, err
	}
	if _, seen := d.plain[path]; !seen {
		d.order = append(d.order, path)
	}
	d.plain[path] = p
	d.cipher[path] = digest(b)
	return p, nil
}

func (d *decryptFS) decrypt(path string, b []byte) ([]byte, error) {
	f, err := secrets.Parse(path, b)
	if err != nil {
		return nil, err
	}
	if d.noDecrypt {
		if f.KindEncrypted() {
			d.mu.Lock()
			d.whole[path] = true
			d.mu.Unlock()
		}
		return f.Placeholders()
	}
	k, err := d.keys()
	if err != nil {
		return nil, err
	}
	return f.Decrypt(k)
}

// Open is not used by kustomize's loaders; it answers from ReadFile so
// that nothing can read a SOPS file's ciphertext as its content.
func (d *decryptFS) Open(path string) (filesys.File, error) {
	b, err := d.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mem := filesys.MakeFsInMemory()
	if err := mem.WriteFile("/f", b); err != nil {
		return nil, err
	}
	return mem.Open("/f")
}

// decrypted lists the SOPS files the render read, in the order read.
func (d *decryptFS) decrypted() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.order...)
}

// wholeManifests are the files read as placeholders whose apiVersion or
// kind is encrypted: rendered without keys, they are objects of no kind.
func (d *decryptFS) wholeManifests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []string
	for _, p := range d.order {
		if d.whole[p] {
			out = append(out, p)
		}
	}
	return out
}

func (d *decryptFS) failure() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.failed
}

// scrub gives each decrypted file's read the digest of its ciphertext:
// the digest of a plaintext is derived from the secret and is not kept
// anywhere, even in memory that crosses a process boundary.
func (d *decryptFS) scrub(obs []Observation) []Observation {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, o := range obs {
		if c, ok := d.cipher[o.Path]; ok && o.Op == OpRead {
			obs[i].Answer = c
		}
	}
	return obs
}

// secretError turns a decryption failure into the render's error: the
// file, and what is wrong with it, with no kustomize text after it (the
// failure is envctl's, not kustomize's).
func secretError(dir string, err error) *Error {
	file, problem := "", err.Error()
	var fe *secrets.FileError
	var nk *secrets.NoKeyError
	switch {
	case errors.As(err, &fe):
		file, problem = fe.File, fe.Problem
	case errors.As(err, &nk):
		file, problem = nk.File, strings.TrimPrefix(nk.Error(), nk.File+": ")
	default:
		// A key source that is set but unusable (SOPS_AGE_KEY_FILE
		// missing, not a key file): it names itself.
		return &Error{Dir: dir, Secret: true, Err: err}
	}
	return &Error{Dir: dir, Secret: true, Cause: &Cause{File: file, Problem: problem}, Err: err}
}
