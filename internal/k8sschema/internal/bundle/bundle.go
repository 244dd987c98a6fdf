// Package bundle is the on-disk format of the embedded Kubernetes schema
// bundles: one gzip-compressed compact JSON document per Kubernetes minor
// version, written by ../gen and read by package k8sschema.
package bundle

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// Releases are the k8s.io/kubernetes module versions the embedded bundles
// come from, oldest first: the newest patch of each minor on the Go
// module proxy when they were generated. ../gen writes one bundle per
// release (its -releases flag overrides the list for a trial run), and
// package k8sschema's tests check that the embedded bundles are exactly
// these, so the default version (the newest) cannot fall behind the list.
var Releases = []string{
	"v1.31.14",
	"v1.32.13",
	"v1.33.13",
	"v1.34.4",
	"v1.35.4",
	"v1.36.3",
	"v1.37.2",
}

// Bundle is the schemas of one Kubernetes version.
type Bundle struct {
	// Kubernetes is the exact release the schemas come from, e.g. "v1.34.4".
	Kubernetes string `json:"kubernetes"`
	// Kinds lists every group/version/kind with a schema, sorted by
	// group, version, kind.
	Kinds []Kind `json:"kinds"`
	// Defs holds the translated JSON Schemas (draft 2020-12, not strict),
	// by OpenAPI definition name; they refer to each other with
	// "#/$defs/NAME". Encode writes them; a decoded bundle leaves Defs nil
	// and decodes each definition when Def first asks for it.
	Defs map[string]any `json:"$defs"`

	raw     map[string]json.RawMessage
	mu      sync.Mutex
	decoded map[string]any
}

// Def returns a definition of a decoded bundle (Decode's; ../gen builds
// Defs itself), decoding it on first use:
// validating a few kinds reaches a few hundred of a version's
// definitions, and decoding all of them cost startup time and held
// megabytes of maps for the whole run. The value is shared: callers must
// not modify it.
func (b *Bundle) Def(name string) (any, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.decoded[name]; ok {
		return d, true
	}
	r, ok := b.raw[name]
	if !ok {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	var d any
	if err := dec.Decode(&d); err != nil {
		return nil, false // Decode checked that every definition is JSON
	}
	b.decoded[name] = d
	return d, true
}

// DefNames returns the names of a decoded bundle's definitions, unsorted.
func (b *Bundle) DefNames() []string {
	var out []string
	for n := range b.raw {
		out = append(out, n)
	}
	return out
}

// Kind maps a group/version/kind to its definition.
type Kind struct {
	Group   string `json:"group,omitempty"` // "" is the core group
	Version string `json:"version"`
	Kind    string `json:"kind"`
	Def     string `json:"def"`
	// Namespaced is true for namespaced resources, false for
	// cluster-scoped ones, and absent where the API paths do not say
	// (kinds that are not resources, such as DeleteOptions).
	Namespaced *bool `json:"namespaced,omitempty"`
	// Resource is the resource that serves the kind, as the API paths
	// name it ("deployments", "endpoints"), for RBAC rules; empty for
	// kinds that are not resources.
	Resource string `json:"resource,omitempty"`
}

// APIVersion is the kind's apiVersion field value ("v1", "apps/v1").
func (k Kind) APIVersion() string {
	if k.Group == "" {
		return k.Version
	}
	return k.Group + "/" + k.Version
}

// Encode writes b as gzip-compressed compact JSON. The output depends only
// on b (map keys are sorted, the gzip header carries no time or name).
func Encode(w io.Writer, b *Bundle) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(buf.Bytes()); err != nil {
		return err
	}
	return zw.Close()
}

// Decode reads a bundle written by Encode. Definitions are decoded by Def,
// with numbers as json.Number, as github.com/santhosh-tekuri/jsonschema
// expects of decoded schemas.
func Decode(r io.Reader) (*Bundle, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("schema bundle: %w", err)
	}
	defer zr.Close()
	var d struct {
		Kubernetes string                     `json:"kubernetes"`
		Kinds      []Kind                     `json:"kinds"`
		Defs       map[string]json.RawMessage `json:"$defs"`
	}
	if err := json.NewDecoder(zr).Decode(&d); err != nil {
		return nil, fmt.Errorf("schema bundle: %w", err)
	}
	if d.Defs == nil {
		d.Defs = map[string]json.RawMessage{}
	}
	return &Bundle{Kubernetes: d.Kubernetes, Kinds: d.Kinds, raw: d.Defs, decoded: map[string]any{}}, nil
}
