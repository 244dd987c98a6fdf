package live

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
)

const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// unmatched stands for a rendered Secret value that matches no digest of
// the snapshot: it differs from every digest, so the value reads as
// changed, and it says nothing about the value.
const unmatched = "envctl: matches no digest in the snapshot"

func isSecret(o *yaml.RNode) bool { return o.GetKind() == "Secret" && o.GetApiVersion() == "v1" }

// MaskSecrets replaces every Secret value in objs (data, stringData, and
// the copy kubectl keeps in the last-applied annotation) by a digest with
// its own random salt (Hasher), so a snapshot file can be shared with an
// auditor or a CI job without sharing credentials, and still tells whether
// a value changed. The digests are computed in parallel: with scrypt each
// takes about 0.1 s.
func MaskSecrets(objs []*yaml.RNode, h Hasher) error {
	type job struct{ value, digest string }
	type plan struct {
		o      *yaml.RNode
		data   map[string]*job
		la     map[string]any
		laData map[string]*job
		dropLA bool
		hasLA  bool
	}
	var plans []*plan
	var jobs []*job
	add := func(v string) *job {
		j := &job{value: v}
		jobs = append(jobs, j)
		return j
	}
	for _, o := range objs {
		if !isSecret(o) {
			continue
		}
		vals, err := secretValues(o)
		if err != nil {
			return fmt.Errorf("Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		p := &plan{o: o, data: map[string]*job{}}
		for k, v := range vals {
			p.data[k] = add(v)
		}
		if s, ok := o.GetAnnotations()[lastApplied]; ok {
			p.hasLA = true
			laVals, obj, err := lastAppliedValues(s)
			if err != nil {
				// An unreadable annotation could hold anything: drop it
				// rather than copy secrets into the snapshot.
				p.dropLA = true
			} else {
				p.la, p.laData = obj, map[string]*job{}
				for k, v := range laVals {
					// The usual case, the value still applied: one
					// digest serves both, at half the cost.
					if j := p.data[k]; j != nil && j.value == v {
						p.laData[k] = j
						continue
					}
					p.laData[k] = add(v)
				}
			}
		}
		plans = append(plans, p)
	}
	err := parallel(len(jobs), func(i int) error {
		d, err := h.Digest(jobs[i].value)
		jobs[i].digest = d
		return err
	})
	if err != nil {
		return err
	}
	for _, p := range plans {
		o := p.o
		digests := map[string]string{}
		for k, j := range p.data {
			digests[k] = j.digest
		}
		if err := setSecretData(o, digests); err != nil {
			return err
		}
		if !p.hasLA {
			continue
		}
		anns := o.GetAnnotations()
		if p.dropLA {
			delete(anns, lastApplied)
		} else {
			delete(p.la, "stringData")
			delete(p.la, "data")
			if len(p.laData) > 0 {
				data := map[string]any{}
				for k, j := range p.laData {
					data[k] = base64.StdEncoding.EncodeToString([]byte(j.digest))
				}
				p.la["data"] = data
			}
			b, err := json.Marshal(p.la)
			if err != nil {
				return err
			}
			anns[lastApplied] = string(b)
		}
		if len(anns) == 0 {
			// SetAnnotations would leave an empty map behind.
			if err := o.PipeE(yaml.Lookup("metadata"), yaml.Clear("annotations")); err != nil {
				return err
			}
			continue
		}
		if err := o.SetAnnotations(anns); err != nil {
			return err
		}
	}
	return nil
}

// setSecretData replaces a Secret's data and stringData by values, as
// base64 data.
func setSecretData(o *yaml.RNode, values map[string]string) error {
	_ = o.PipeE(yaml.Clear("stringData"))
	if len(values) == 0 {
		return o.PipeE(yaml.Clear("data"))
	}
	m := yaml.NewMapRNode(nil)
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if err := m.PipeE(yaml.SetField(k, yaml.NewStringRNode(base64.StdEncoding.EncodeToString([]byte(values[k]))))); err != nil {
			return err
		}
	}
	return o.PipeE(yaml.SetField("data", m))
}

// lastAppliedValues reads the Secret values of a last-applied annotation
// (stringData winning over data), and the object it holds.
func lastAppliedValues(s string) (map[string]string, map[string]any, error) {
	var obj map[string]any
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return nil, nil, err
	}
	out := map[string]string{}
	if d, ok := obj["data"].(map[string]any); ok {
		for k, v := range d {
			raw, _ := base64.StdEncoding.DecodeString(fmt.Sprint(v))
			out[k] = string(raw)
		}
	}
	if d, ok := obj["stringData"].(map[string]any); ok {
		for k, v := range d {
			out[k] = fmt.Sprint(v)
		}
	}
	return out, obj, nil
}

// MatchSecretDigests makes desired Secrets comparable with a snapshot's:
// each rendered value is hashed with the salt and parameters of the
// snapshot's digest for the same key (the Secret of the same name first,
// then the other generations of a generated one) and replaced by that
// digest when it matches, by a value matching nothing when it does not.
// Every value carries its own salt, so several snapshot files compare
// alike. A snapshot value that is not a digest (a hand-written file) is
// compared as it is. defaultNS is where desired objects without a
// namespace live.
func MatchSecretDigests(desired, live []*yaml.RNode, defaultNS string, h Hasher) error {
	type liveSecret struct {
		name   string
		values map[string]string
	}
	byNS := map[string][]liveSecret{}
	for _, o := range live {
		if !isSecret(o) {
			continue
		}
		vals, err := secretValues(o)
		if err != nil {
			return fmt.Errorf("snapshot Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		byNS[o.GetNamespace()] = append(byNS[o.GetNamespace()], liveSecret{o.GetName(), vals})
	}
	type job struct {
		value string
		cands []string
		out   string
	}
	type plan struct {
		o    *yaml.RNode
		jobs map[string]*job
	}
	var plans []plan
	var jobs []*job
	for _, o := range desired {
		if !isSecret(o) {
			continue
		}
		vals, err := secretValues(o)
		if err != nil {
			return fmt.Errorf("Secret %s/%s: %w", o.GetNamespace(), o.GetName(), err)
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = defaultNS
		}
		cands := candidates(byNS[ns], o.GetName(), func(s liveSecret) string { return s.name })
		p := plan{o: o, jobs: map[string]*job{}}
		for k, v := range vals {
			j := &job{value: v}
			for _, c := range cands {
				if d, ok := c.values[k]; ok {
					j.cands = append(j.cands, d)
				}
			}
			p.jobs[k] = j
			jobs = append(jobs, j)
		}
		plans = append(plans, p)
	}
	err := parallel(len(jobs), func(i int) error {
		j := jobs[i]
		j.out = unmatched
		for _, c := range j.cands {
			d, err := parseDigest(c)
			if err == errNotDigest {
				if c == j.value {
					j.out = c
					return nil
				}
				continue
			}
			if err != nil {
				return err
			}
			ok, err := h.matches(d, j.value)
			if err != nil {
				return err
			}
			if ok {
				j.out = c
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range plans {
		out := map[string]string{}
		for k, j := range p.jobs {
			out[k] = j.out
		}
		if err := setSecretData(p.o, out); err != nil {
			return fmt.Errorf("Secret %s/%s: %w", p.o.GetNamespace(), p.o.GetName(), err)
		}
	}
	return nil
}

// candidates are the live objects a desired object of that name is
// compared with: the one of the same name first, then the other
// generations of a generated name (drift compares a renamed ConfigMap or
// Secret with its previous generation).
func candidates[T any](live []T, name string, nameOf func(T) string) []T {
	base := name
	if len(name) > 11 && manifest.GeneratedName(name, name[:len(name)-11]) {
		base = name[:len(name)-11]
	}
	var exact, others []T
	for _, l := range live {
		switch n := nameOf(l); {
		case n == name:
			exact = append(exact, l)
		case manifest.GeneratedName(n, base):
			others = append(others, l)
		}
	}
	return append(exact, others...)
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

// CaptureOptions say whose snapshot Capture takes and how.
type CaptureOptions struct {
	// Env is the environment's name, recorded in the header.
	Env string
	// Hasher digests Secret values.
	Hasher Hasher
	// Now is the time recorded in the header.
	Now time.Time
	// Warnf, when set, is told what the user should know but that does
	// not stop the snapshot.
	Warnf func(format string, args ...any)
}

// slowDigests is how many scrypt digests make a snapshot worth a hint:
// comparing costs one scrypt call (~0.1 s of a core) per rendered value.
const slowDigests = 50

// Capture reads what is live for an environment's desired objects and
// encodes it as a snapshot file: a header saying what was read, then the
// objects, Secret values replaced by digests.
func Capture(ctx context.Context, src Source, t Target, desired []*yaml.RNode, o CaptureOptions) ([]byte, error) {
	st, err := ReadFor(ctx, src, t, desired)
	if err != nil {
		return nil, err
	}
	if len(st.Problems) > 0 {
		return nil, &IncompleteError{Env: o.Env, Problems: st.Problems}
	}
	if err := MaskSecrets(st.Live, o.Hasher); err != nil {
		return nil, err
	}
	if len(st.Live) == 0 && o.Warnf != nil {
		// Written all the same: it is what is live. But a wrong context
		// looks exactly like this, and diff will report every object
		// missing.
		o.Warnf("no live object of %s in namespaces %s (selector %q): the snapshot holds none; is this the environment's cluster?", o.Env, strings.Join(st.Query.Namespaces, ", "), st.Query.Selector)
	}
	if n := countSecretValues(st.Live); n >= slowDigests && o.Hasher.Key == nil && o.Warnf != nil {
		o.Warnf("%d Secret values digested with scrypt: each diff --live of this snapshot spends ~0.1 s of a CPU core per value; set ENVCTL_SNAPSHOT_KEY for HMAC digests, which cost microseconds", n)
	}
	h := &SnapshotHeader{
		Environment:   o.Env,
		TakenAt:       o.Now.UTC().Format(time.RFC3339),
		Namespaces:    st.Query.Namespaces,
		Selector:      st.Query.Selector,
		SecretDigests: o.Hasher.Scheme(),
	}
	for _, k := range st.Query.Kinds {
		h.Kinds = append(h.Kinds, kindString(k.GroupVersion().String(), k.Kind))
	}
	return EncodeSnapshot(h, st.Live)
}

func countSecretValues(objs []*yaml.RNode) int {
	n := 0
	for _, o := range objs {
		if isSecret(o) {
			vals, _ := secretValues(o)
			n += len(vals)
		}
	}
	return n
}

func kindString(apiVersion, kind string) string { return apiVersion + " " + kind }
