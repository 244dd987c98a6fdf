package live

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/yamlguard"
)

// SaltAnnotation carries the salt of a snapshot's Secret digests.
const SaltAnnotation = "envctl.dev/snapshot-salt"

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// digestPrefix marks a Secret value replaced by its salted digest.
const digestPrefix = "envctl-sha256:"

// NewSalt returns a random salt for one snapshot.
func NewSalt() []byte {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

// MaskSecrets replaces every Secret value in objs (data, stringData, and
// the copy kubectl keeps in the last-applied annotation) by a salted
// SHA-256 digest, so a snapshot file can be shared with an auditor or a CI
// job without sharing credentials, and still tells whether a value changed.
func MaskSecrets(objs []*yaml.RNode, salt []byte) error {
	for _, o := range objs {
		if o.GetKind() != "Secret" || o.GetApiVersion() != "v1" {
			continue
		}
		if err := maskSecret(o, salt, true); err != nil {
			return fmt.Errorf("Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
	}
	return nil
}

func maskSecret(o *yaml.RNode, salt []byte, annotate bool) error {
	data, err := secretValues(o)
	if err != nil {
		return err
	}
	_ = o.PipeE(yaml.Clear("stringData"))
	if len(data) > 0 {
		m := yaml.NewMapRNode(nil)
		for _, k := range slices.Sorted(maps.Keys(data)) {
			if err := m.PipeE(yaml.SetField(k, yaml.NewStringRNode(base64.StdEncoding.EncodeToString([]byte(digest(salt, data[k])))))); err != nil {
				return err
			}
		}
		if err := o.PipeE(yaml.SetField("data", m)); err != nil {
			return err
		}
	}
	anns := o.GetAnnotations()
	if la, ok := anns[lastApplied]; ok {
		masked, err := maskLastApplied(la, salt)
		if err != nil {
			// An unreadable annotation could hold anything: drop it
			// rather than copy secrets into the snapshot.
			delete(anns, lastApplied)
		} else {
			anns[lastApplied] = masked
		}
	}
	if annotate {
		anns[SaltAnnotation] = hex.EncodeToString(salt)
	}
	if len(anns) == 0 {
		// SetAnnotations would leave an empty map behind.
		return o.PipeE(yaml.Lookup("metadata"), yaml.Clear("annotations"))
	}
	return o.SetAnnotations(anns)
}

func maskLastApplied(s string, salt []byte) (string, error) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return "", err
	}
	data := map[string]any{}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			raw, _ := base64.StdEncoding.DecodeString(fmt.Sprint(v))
			data[k] = base64.StdEncoding.EncodeToString([]byte(digest(salt, string(raw))))
		}
	}
	if d, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range d {
			data[k] = base64.StdEncoding.EncodeToString([]byte(digest(salt, fmt.Sprint(v))))
		}
		delete(obj, "stringData")
	}
	if len(data) > 0 {
		obj["data"] = data
	}
	b, err := json.Marshal(obj)
	return string(b), err
}

// MatchSecretDigests makes desired Secrets comparable with a masked
// snapshot: when live Secrets carry a snapshot salt, the desired values are
// replaced by digests with the same salt. Without a salt it does nothing.
func MatchSecretDigests(desired, live []*yaml.RNode) error {
	var salt []byte
	for _, o := range live {
		if s, ok := o.GetAnnotations()[SaltAnnotation]; ok && o.GetKind() == "Secret" {
			b, err := hex.DecodeString(s)
			if err != nil {
				return fmt.Errorf("Secret %s/%s: bad %s annotation", o.GetNamespace(), o.GetName(), SaltAnnotation)
			}
			salt = b
			break
		}
	}
	if salt == nil {
		return nil
	}
	for _, o := range live {
		if o.GetKind() == "Secret" {
			anns := o.GetAnnotations()
			delete(anns, SaltAnnotation)
			if err := o.SetAnnotations(anns); err != nil {
				return err
			}
		}
	}
	for _, o := range desired {
		if o.GetKind() == "Secret" && o.GetApiVersion() == "v1" {
			if err := maskSecret(o, salt, false); err != nil {
				return fmt.Errorf("Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
			}
		}
	}
	return nil
}

// secretValues returns a Secret's values, decoded, with stringData winning
// over data as the API server does.
func secretValues(o *yaml.RNode) (map[string]string, error) {
	out := map[string]string{}
	if d := o.Field("data"); d != nil && d.Value != nil {
		err := d.Value.VisitFields(func(n *yaml.MapNode) error {
			raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(n.Value.YNode().Value))
			if err != nil {
				return fmt.Errorf("data.%s is not base64", n.Key.YNode().Value)
			}
			out[n.Key.YNode().Value] = string(raw)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if d := o.Field("stringData"); d != nil && d.Value != nil {
		_ = d.Value.VisitFields(func(n *yaml.MapNode) error {
			out[n.Key.YNode().Value] = n.Value.YNode().Value
			return nil
		})
	}
	return out, nil
}

func digest(salt []byte, value string) string {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(value))
	return digestPrefix + hex.EncodeToString(h.Sum(nil))
}

// EncodeSnapshot renders objects as a YAML stream under a comment header.
func EncodeSnapshot(header string, objs []*yaml.RNode) ([]byte, error) {
	var buf bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(header), "\n") {
		fmt.Fprintf(&buf, "# %s\n", line)
	}
	w := kio.ByteWriter{Writer: &buf}
	if err := w.Write(objs); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ReadObjects reads objects from YAML or JSON files; a directory contributes
// every *.yaml, *.yml and *.json file under it. A `kind:
// List` document contributes its items. A file larger than maxBytes
// (yamlguard.DefaultMaxBytes when 0) or holding an alias bomb is an error
// naming it.
func ReadObjects(maxBytes int64, paths ...string) ([]*yaml.RNode, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := manifest.Files(filesys.MakeFsOnDisk(), p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	var out []*yaml.RNode
	for _, f := range files {
		b, err := yamlguard.ReadFile(f, maxBytes)
		if err != nil {
			if yamlguard.IsRefusal(err) {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			return nil, err
		}
		nodes, err := manifest.Parse(b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i, n := range nodes {
			if n.GetKind() == "List" {
				items, err := n.Pipe(yaml.Lookup("items"))
				if err != nil || items == nil {
					continue
				}
				elems, _ := items.Elements()
				out = append(out, elems...)
				continue
			}
			if n.GetKind() == "" || n.GetApiVersion() == "" {
				return nil, fmt.Errorf("%s: document %d has no apiVersion/kind", f, i+1)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// IncompleteError is a snapshot that could not read every kind. A snapshot
// that silently lacked a kind would later read as "missing" drift, so
// none is written.
type IncompleteError struct {
	Env      string
	Problems []Problem
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("snapshot of %s is incomplete: %d kind(s) could not be read; nothing written", e.Env, len(e.Problems))
}

// Capture reads what is live for an environment's desired objects and
// encodes it as a snapshot file: a header naming env, then the objects,
// Secret values replaced by salted digests.
func Capture(ctx context.Context, src Source, t Target, env string, desired []*yaml.RNode) ([]byte, error) {
	st, err := ReadFor(ctx, src, t, desired)
	if err != nil {
		return nil, err
	}
	if len(st.Problems) > 0 {
		return nil, &IncompleteError{Env: env, Problems: st.Problems}
	}
	if err := MaskSecrets(st.Live, NewSalt()); err != nil {
		return nil, err
	}
	header := fmt.Sprintf("envctl snapshot of environment %s: %d live objects.\nSecret values are salted SHA-256 digests.", env, len(st.Live))
	return EncodeSnapshot(header, st.Live)
}
