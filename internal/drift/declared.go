package drift

import (
	"slices"
	"strconv"
	"strings"
)

// Evidence that a live-only field was declared by an earlier apply comes
// from two places on the live object:
//
//   - the kubectl.kubernetes.io/last-applied-configuration annotation that
//     client-side apply writes (the whole applied object as JSON);
//   - metadata.managedFields: the Apply entries (server-side apply) of the
//     managers in Options.FieldManagers own exactly the fields they sent,
//     written in the fieldsV1 format of structured-merge-diff: "f:<field>",
//     list items as "k:{<key fields as JSON>}", "v:<value as JSON>" or
//     "i:<index>", and "." for the field itself.
//
// Update entries are never evidence, not even kubectl-client-side-apply's:
// the API server computes an Update's ownership from the object after
// defaulting, so the manager that created an object owns every defaulted
// field too (f:dnsPolicy, f:terminationMessagePath, f:strategy, ...), and a
// removed field could not be told from a default. Client-side apply's own
// record, last-applied-configuration, is exact and is always written with
// it.

const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// fieldSet is a parsed fieldsV1 tree.
type fieldSet struct {
	fields map[string]*fieldSet
	keyed  []keyedSet
	values []valueSet
	index  map[int]*fieldSet
}

type keyedSet struct {
	key map[string]any
	set *fieldSet
}

type valueSet struct {
	value any
	set   *fieldSet
}

// parseFieldSet parses a fieldsV1 object (already a tree).
func parseFieldSet(v any) *fieldSet {
	m, _ := v.(map[string]any)
	fs := &fieldSet{}
	for _, k := range sortedFields(m) {
		child := m[k]
		switch {
		case k == ".":
		case strings.HasPrefix(k, "f:"):
			if fs.fields == nil {
				fs.fields = map[string]*fieldSet{}
			}
			fs.fields[k[2:]] = parseFieldSet(child)
		case strings.HasPrefix(k, "k:"):
			kv, ok := parseJSONTree(k[2:])
			km, _ := kv.(map[string]any)
			if ok && km != nil {
				fs.keyed = append(fs.keyed, keyedSet{key: km, set: parseFieldSet(child)})
			}
		case strings.HasPrefix(k, "v:"):
			if vv, ok := parseJSONTree(k[2:]); ok {
				fs.values = append(fs.values, valueSet{value: vv, set: parseFieldSet(child)})
			}
		case strings.HasPrefix(k, "i:"):
			if i, err := strconv.Atoi(k[2:]); err == nil {
				if fs.index == nil {
					fs.index = map[int]*fieldSet{}
				}
				fs.index[i] = parseFieldSet(child)
			}
		}
	}
	return fs
}

// lookup returns the set at path p, or nil when the entry does not own p.
// Paths in the report are relative to the object; secret says that the
// object's data was folded from stringData (so f:stringData counts too).
func (fs *fieldSet) lookup(p []seg, secret bool) *fieldSet {
	set, _ := fs.lookupAtomic(p, secret)
	return set
}

// lookupAtomic is lookup that also reports whether ownership of p comes
// only from owning an atomic list above it. Such an entry owns the list's
// value as applied, but the server may have defaulted fields inside its
// items (a StatefulSet's volumeClaimTemplates get apiVersion, kind,
// volumeMode and status), so it does not show that p itself was declared.
func (fs *fieldSet) lookupAtomic(p []seg, secret bool) (*fieldSet, bool) {
	cur := fs
	for i, s := range p {
		if cur == nil {
			return nil, false
		}
		if !s.item {
			next := cur.fields[s.key]
			if next == nil && secret && i == 0 && s.key == "data" {
				next = cur.fields["stringData"]
			}
			cur = next
			continue
		}
		if len(cur.keyed) == 0 && len(cur.values) == 0 && len(cur.index) == 0 {
			// An atomic list: the entry owns the list and all of it.
			return cur, i < len(p)-1
		}
		var next *fieldSet
		switch {
		case s.set:
			for _, vs := range cur.values {
				if treeEqual(vs.value, s.value) {
					next = vs.set
					break
				}
			}
		default:
			if item, ok := s.value.(map[string]any); ok {
				for _, ks := range cur.keyed {
					if itemHasKey(item, ks.key) {
						next = ks.set
						break
					}
				}
			}
			if next == nil {
				next = cur.index[s.index]
			}
		}
		cur = next
	}
	return cur, false
}

// itemHasKey reports whether a list item carries every key field of a
// fieldsV1 "k:" element (protocol defaults to TCP, as the server does).
func itemHasKey(item, k map[string]any) bool {
	for f, v := range k {
		if !treeEqual(keyField(item, f), v) {
			return false
		}
	}
	return true
}

// managedEntry is one metadata.managedFields entry.
type managedEntry struct {
	manager   string
	operation string
	time      string // when the manager last changed the object
	applier   bool   // counts as "declared by the repository"
	// handEdit: an Update by a human tool (kubectl edit, patch, set,
	// scale, ...): what it owns and the repository does not declare is
	// drift.
	handEdit bool
	set      *fieldSet
}

// parseManagedFields reads metadata.managedFields. Entries for the status
// subresource are skipped: they never hold what anyone declared. The
// scale subresource's are kept for hand edits only, as the server records
// them with the main resource's paths; kubectl scale writes them as
// manager "kubectl" (kubectl 1.32), a name that is also kubectl apply
// --server-side's, so only there does "kubectl" mean a hand edit.
func parseManagedFields(v any, appliers, handEditors []string) []managedEntry {
	list, _ := v.([]any)
	var out []managedEntry
	for _, e := range list {
		m, _ := e.(map[string]any)
		if m == nil {
			continue
		}
		sub := str(m["subresource"])
		if sub != "" && sub != "scale" {
			continue
		}
		if ft := str(m["fieldsType"]); ft != "" && ft != "FieldsV1" {
			continue
		}
		name, op := str(m["manager"]), str(m["operation"])
		out = append(out, managedEntry{
			manager:   name,
			operation: op,
			time:      str(m["time"]),
			applier:   sub == "" && op == "Apply" && slices.Contains(appliers, name),
			handEdit:  op == "Update" && (slices.Contains(handEditors, name) || sub == "scale" && name == "kubectl"),
			set:       parseFieldSet(m["fieldsV1"]),
		})
	}
	return out
}

// lastAppliedLookup reports whether the last-applied object has path p.
func lastAppliedLookup(la any, p []seg, secret bool) bool {
	cur := la
	for i, s := range p {
		if !s.item {
			m, _ := cur.(map[string]any)
			if m == nil {
				return false
			}
			next, ok := m[s.key]
			if !ok && secret && i == 0 && s.key == "data" {
				next, ok = m["stringData"]
			}
			if !ok {
				return false
			}
			cur = next
			continue
		}
		l, _ := cur.([]any)
		found := false
		switch {
		case s.set:
			for _, it := range l {
				if treeEqual(it, s.value) {
					cur, found = it, true
					break
				}
			}
		case s.keys != nil:
			item, _ := s.value.(map[string]any)
			for _, it := range l {
				im, _ := it.(map[string]any)
				if im != nil && sameKey(im, item, s.keys) {
					cur, found = it, true
					break
				}
			}
		default:
			if s.index < len(l) {
				cur, found = l[s.index], true
			}
		}
		if !found {
			return false
		}
	}
	return !isEmpty(cur)
}
