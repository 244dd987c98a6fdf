package drift

import (
	"slices"
	"strings"
)

// Rollout is what a change does to running workloads: which roll and why,
// and which read changed configuration without rolling.
type Rollout struct {
	// Restarts are the workloads whose pod template changes: applying
	// the change replaces their pods.
	Restarts []Restart `json:"restarts,omitempty"`
	// Attention are the workloads that read a changed ConfigMap or Secret
	// by a fixed name (no content hash): the change does not roll them,
	// so what they run depends on how they read it.
	Attention []Attention `json:"attention,omitempty"`
}

// Empty reports whether the change touches no workload.
func (r *Rollout) Empty() bool { return r == nil || len(r.Restarts)+len(r.Attention) == 0 }

// Restart is one workload that rolls, with every reason.
type Restart struct {
	Workload ObjectID `json:"workload"`
	Reasons  []Reason `json:"reasons"`
}

// ReasonKind classifies why a pod template changed.
type ReasonKind string

// Why a workload rolls.
const (
	// ReasonConfig: a hashed ConfigMap or Secret it references was
	// regenerated (Object, by base name, and the Keys that changed).
	ReasonConfig ReasonKind = "config"
	// ReasonImage: a container's image.
	ReasonImage ReasonKind = "image"
	// ReasonEnv: a container's environment variable (Name) or envFrom.
	ReasonEnv ReasonKind = "env"
	// ReasonResources: a container's requests or limits.
	ReasonResources ReasonKind = "resources"
	// ReasonProbe: a container's liveness, readiness or startup probe.
	ReasonProbe ReasonKind = "probe"
	// ReasonTemplate: anything else in the pod template (labels,
	// annotations, volumes, command, ...), named by Path.
	ReasonTemplate ReasonKind = "template"
)

// Reason is one cause of a roll.
type Reason struct {
	Kind ReasonKind `json:"kind"`
	// Container is the container the change is in, if any.
	Container string `json:"container,omitempty"`
	// Name is the env var or probe (livenessProbe, ...) that changed.
	Name string `json:"name,omitempty"`
	// Object is the regenerated ConfigMap or Secret by base name, e.g.
	// "ConfigMap app-config".
	Object string `json:"object,omitempty"`
	// Keys are the changed keys of Object (names only, never values).
	Keys []string `json:"keys,omitempty"`
	// Old and New are the image before and after (ReasonImage only).
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Path is the changed field (the first one, for a reason that
	// groups several).
	Path string `json:"path"`
}

// Attention is a workload that reads a changed ConfigMap or Secret whose
// name does not change, so nothing rolls it.
type Attention struct {
	Workload ObjectID `json:"workload"`
	// Object is the changed ConfigMap or Secret, e.g. "ConfigMap
	// nginx-conf".
	Object string `json:"object"`
	// Keys are its changed keys.
	Keys []string `json:"keys,omitempty"`
	// Reads says how the workload reads it, each a ReadKind.
	Reads []ReadKind `json:"reads"`
}

// ReadKind is how a pod reads a ConfigMap or Secret.
type ReadKind string

// How a fixed-name ConfigMap or Secret reaches a pod, and what a change
// to it does.
const (
	// ReadEnv: env valueFrom or envFrom; read at start, so the pods keep
	// the old values until they restart.
	ReadEnv ReadKind = "env"
	// ReadSubPath: a volume mounted with subPath; the kubelet never
	// updates it, so the pods keep the old file until they restart.
	ReadSubPath ReadKind = "subPath"
	// ReadVolume: a whole volume; the kubelet updates the files in place
	// (within about a minute) and the application must reload them.
	ReadVolume ReadKind = "volume"
)

// rolloutImpact derives the rollout impact of a comparison of two renders
// from its results and the desired objects.
func rolloutImpact(rep *Report, desired map[key]*object) *Rollout {
	r := &Rollout{}
	regenerated := map[ObjectID]ObjectResult{} // by desired ID
	for _, o := range rep.Objects {
		if o.Renamed != nil {
			regenerated[o.ID] = o
		}
	}
	for _, o := range rep.Objects {
		ps := podSpecPath(o.ID.Group, o.ID.Kind)
		if o.Status != StatusChanged || ps == nil {
			continue
		}
		tmpl := "/" + strings.Join(ps[:len(ps)-1], "/") + "/"
		var reasons []Reason
		seen := map[string]bool{}
		for _, c := range o.Changes {
			if !strings.HasPrefix(c.Pointer, tmpl) {
				continue
			}
			rs := classify(c, ps, regenerated)
			k := string(rs.Kind) + "\x00" + rs.Container + "\x00" + rs.Name + "\x00" + rs.Object
			if seen[k] {
				continue
			}
			seen[k] = true
			reasons = append(reasons, rs)
		}
		if len(reasons) > 0 {
			r.Restarts = append(r.Restarts, Restart{Workload: o.ID, Reasons: reasons})
		}
	}

	// Changed ConfigMaps and Secrets that keep their name.
	for _, o := range rep.Objects {
		if o.Status != StatusChanged || o.Renamed != nil || o.ID.Group != "" || (o.ID.Kind != "ConfigMap" && o.ID.Kind != "Secret") {
			continue
		}
		keys := changedKeys(o)
		if len(keys) == 0 {
			continue
		}
		for _, w := range sortedObjects(desired) {
			ps := podSpecPath(w.id.Group, w.id.Kind)
			if ps == nil || w.id.Namespace != o.ID.Namespace {
				continue
			}
			if reads := readsOf(mapAt(w.tree, ps...), o.ID.Kind, o.ID.Name); len(reads) > 0 {
				r.Attention = append(r.Attention, Attention{Workload: w.id, Object: o.ID.Kind + " " + o.ID.Name, Keys: keys, Reads: reads})
			}
		}
	}
	if r.Empty() {
		return nil
	}
	return r
}

func sortedObjects(m map[key]*object) []*object {
	out := make([]*object, 0, len(m))
	for _, o := range m {
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *object) int { return compareIDs(a.id, b.id) })
	return out
}

// classify names why one change under a pod template rolls the workload.
func classify(c FieldChange, podSpec []string, regenerated map[ObjectID]ObjectResult) Reason {
	rs := Reason{Kind: ReasonTemplate, Path: c.Path}
	if c.FollowsRename != nil {
		rs.Kind = ReasonConfig
		rs.Object = c.FollowsRename.Kind + " " + baseName(c.FollowsRename.Name)
		if o, ok := regenerated[*c.FollowsRename]; ok {
			rs.Keys = changedKeys(o)
		}
		return rs
	}
	// The rest of the path after the pod spec: containers[name=api].image
	rest := strings.TrimPrefix(c.Path, strings.Join(podSpec, ".")+".")
	for _, cs := range []string{"containers[", "initContainers[", "ephemeralContainers["} {
		if !strings.HasPrefix(rest, cs) {
			continue
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return rs
		}
		item := rest[len(cs):end]
		rs.Container = strings.TrimPrefix(item, "name=")
		field := strings.TrimPrefix(rest[end+1:], ".")
		switch {
		case field == "image":
			rs.Kind = ReasonImage
			rs.Old, _ = c.Old.Data().(string)
			rs.New, _ = c.New.Data().(string)
		case strings.HasPrefix(field, "env[") || field == "env":
			rs.Kind = ReasonEnv
			if i := strings.IndexByte(field, ']'); i > 0 {
				rs.Name = strings.TrimPrefix(field[len("env["):i], "name=")
			}
		case strings.HasPrefix(field, "envFrom"):
			rs.Kind = ReasonEnv
			rs.Name = "envFrom"
		case strings.HasPrefix(field, "resources"):
			rs.Kind = ReasonResources
		case strings.HasPrefix(field, "livenessProbe"), strings.HasPrefix(field, "readinessProbe"), strings.HasPrefix(field, "startupProbe"):
			rs.Kind = ReasonProbe
			rs.Name, _, _ = strings.Cut(field, ".")
		}
		return rs
	}
	return rs
}

// changedKeys lists the data keys a ConfigMap's or Secret's changes touch,
// from their pointers (/data/KEY, /binaryData/KEY), sorted.
func changedKeys(o ObjectResult) []string {
	var keys []string
	for _, c := range o.Changes {
		for _, top := range []string{"/data/", "/binaryData/", "/stringData/"} {
			if k, ok := strings.CutPrefix(c.Pointer, top); ok {
				if i := strings.IndexByte(k, '/'); i >= 0 {
					k = k[:i]
				}
				keys = append(keys, strings.NewReplacer("~1", "/", "~0", "~").Replace(k))
			}
		}
	}
	slices.Sort(keys)
	return slices.Compact(keys)
}

// readsOf says how a pod spec reads the ConfigMap or Secret kind/name.
func readsOf(spec map[string]any, kind, name string) []ReadKind {
	var reads []ReadKind
	volumes := map[string]bool{} // volume names that hold it
	for _, v := range listAt(spec, "volumes") {
		vn := str(mapAt(v)["name"])
		if kind == "ConfigMap" && str(mapAt(v, "configMap")["name"]) == name ||
			kind == "Secret" && str(mapAt(v, "secret")["secretName"]) == name {
			volumes[vn] = true
		}
		for _, s := range listAt(v, "projected", "sources") {
			if kind == "ConfigMap" && str(mapAt(s, "configMap")["name"]) == name || kind == "Secret" && str(mapAt(s, "secret")["name"]) == name {
				volumes[vn] = true
			}
		}
	}
	for _, cs := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, c := range listAt(spec, cs) {
			for _, e := range listAt(c, "env") {
				if kind == "ConfigMap" && str(mapAt(e, "valueFrom", "configMapKeyRef")["name"]) == name ||
					kind == "Secret" && str(mapAt(e, "valueFrom", "secretKeyRef")["name"]) == name {
					reads = append(reads, ReadEnv)
				}
			}
			for _, e := range listAt(c, "envFrom") {
				if kind == "ConfigMap" && str(mapAt(e, "configMapRef")["name"]) == name || kind == "Secret" && str(mapAt(e, "secretRef")["name"]) == name {
					reads = append(reads, ReadEnv)
				}
			}
			for _, m := range listAt(c, "volumeMounts") {
				if !volumes[str(mapAt(m)["name"])] {
					continue
				}
				if str(mapAt(m)["subPath"]) != "" || str(mapAt(m)["subPathExpr"]) != "" {
					reads = append(reads, ReadSubPath)
				} else {
					reads = append(reads, ReadVolume)
				}
			}
		}
	}
	slices.Sort(reads)
	return slices.Compact(reads)
}
