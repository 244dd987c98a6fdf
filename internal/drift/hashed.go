package drift

import (
	"regexp"
	"slices"
)

// kustomize's configMapGenerator and secretGenerator name their objects
// <name>-<hash>: the first 10 hex digits of a SHA-256, with 0, 1, 3, a and e
// replaced by g, h, k, m and t (sigs.k8s.io/kustomize/api/hasher, encode),
// so the suffix is 10 characters from the 16 of "2456789bcdfghkmt". TestHashSuffixMatchesKustomizeHasher checks this
// against the hasher itself.
var hashSuffix = regexp.MustCompile(`^(.+)-([2456789bcdfghkmt]{10})$`)

// hashedBase returns the base name of a hashed generator name.
func hashedBase(name string) (string, bool) {
	m := hashSuffix.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

func isHashable(group, kind string) bool {
	return group == "" && (kind == "ConfigMap" || kind == "Secret")
}

// HashedBase returns the base name of a name that kustomize's
// configMapGenerator or secretGenerator made (app-config for
// app-config-7g4k9c2t5m), and whether name is one.
func HashedBase(name string) (string, bool) { return hashedBase(name) }

// TemplateRefs lists the ConfigMaps and Secrets that a workload's pod
// template references, as "ConfigMap/name" and "Secret/name". Beside the
// kinds podSpecPath knows it reads ControllerRevisions (the revisions of
// StatefulSets and DaemonSets keep their template under data.spec), so
// that a rollback's config can be found. Other kinds reference none.
func TemplateRefs(group, kind string, obj map[string]any) []string {
	ps := podSpecPath(group, kind)
	if group == "apps" && kind == "ControllerRevision" {
		ps = []string{"data", "spec", "template", "spec"}
	}
	if ps == nil {
		return nil
	}
	var out []string
	for _, r := range podRefs(mapAt(obj, ps...)) {
		out = append(out, r.kind+"/"+r.name)
	}
	return out
}

// podSpecPath is where a workload kind keeps its pod spec.
func podSpecPath(group, kind string) []string {
	switch {
	case group == "apps" && (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "ReplicaSet"),
		group == "batch" && kind == "Job",
		group == "" && (kind == "ReplicationController"):
		return []string{"spec", "template", "spec"}
	case group == "" && kind == "PodTemplate":
		return []string{"template", "spec"}
	case group == "batch" && kind == "CronJob":
		return []string{"spec", "jobTemplate", "spec", "template", "spec"}
	case group == "" && kind == "Pod":
		return []string{"spec"}
	}
	return nil
}

// ref is a pod template's reference to a ConfigMap or Secret.
type ref struct{ kind, name string }

// podRefs lists the ConfigMaps and Secrets a pod spec references: env
// valueFrom (configMapKeyRef, secretKeyRef), envFrom, volumes (configMap,
// secret, projected sources) and imagePullSecrets, in every kind of
// container.
func podRefs(spec map[string]any) []ref {
	var out []ref
	add := func(kind string, v any) {
		if s := str(v); s != "" {
			out = append(out, ref{kind, s})
		}
	}
	for _, cs := range []string{"initContainers", "containers", "ephemeralContainers"} {
		for _, c := range listAt(spec, cs) {
			for _, e := range listAt(c, "env") {
				add("ConfigMap", mapAt(e, "valueFrom", "configMapKeyRef")["name"])
				add("Secret", mapAt(e, "valueFrom", "secretKeyRef")["name"])
			}
			for _, e := range listAt(c, "envFrom") {
				add("ConfigMap", mapAt(e, "configMapRef")["name"])
				add("Secret", mapAt(e, "secretRef")["name"])
			}
		}
	}
	for _, v := range listAt(spec, "volumes") {
		add("ConfigMap", mapAt(v, "configMap")["name"])
		add("Secret", mapAt(v, "secret")["secretName"])
		for _, s := range listAt(v, "projected", "sources") {
			add("ConfigMap", mapAt(s, "configMap")["name"])
			add("Secret", mapAt(s, "secret")["name"])
		}
	}
	for _, s := range listAt(spec, "imagePullSecrets") {
		add("Secret", mapAt(s)["name"])
	}
	slices.SortFunc(out, func(a, b ref) int { return cmpStrings(a.kind, b.kind, a.name, b.name) })
	return slices.Compact(out)
}

// refKind tells which kind a reference field at the end of path p names,
// or "" when p is not a reference.
func refKind(p []seg) string {
	n := len(p)
	if n < 2 || p[n-1].item {
		return ""
	}
	last := p[n-1].key
	parent := p[n-2]
	if parent.item {
		if n >= 3 && p[n-3].key == "imagePullSecrets" && last == "name" {
			return "Secret"
		}
		return ""
	}
	switch {
	case last == "name" && (parent.key == "configMapKeyRef" || parent.key == "configMapRef" || parent.key == "configMap"):
		return "ConfigMap"
	case last == "name" && (parent.key == "secretKeyRef" || parent.key == "secretRef"),
		parent.key == "secret" && (last == "secretName" || last == "name"):
		return "Secret"
	}
	return ""
}

type renameKey struct{ namespace, kind, from, to string }
