package k8sschema

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/envctl/envctl/internal/k8sschema/translate"
)

// KubeconformFilename is the file name kubeconform v0.8.0 looks for with
// the schema-location template "{{ .ResourceKind }}{{ .KindSuffix }}.json":
// the lower-cased kind, then "-" and the first DNS label of the group
// (none for the core group), then "-" and the version. "Deployment",
// "apps/v1" gives "deployment-apps-v1.json"; "ConfigMap", "v1" gives
// "configmap-v1.json"; "Ingress", "networking.k8s.io/v1" gives
// "ingress-networking-v1.json".
func KubeconformFilename(apiVersion, kind string) string {
	groupParts := strings.Split(apiVersion, "/")
	versionParts := strings.Split(groupParts[0], ".")
	suffix := "-" + strings.ToLower(versionParts[0])
	if len(groupParts) > 1 {
		suffix += "-" + strings.ToLower(groupParts[1])
	}
	return strings.ToLower(kind) + suffix + ".json"
}

// ExportKubeconform writes the schemas of a Kubernetes version into dir,
// one self-contained JSON Schema file per kind named as kubeconform
// expects (KubeconformFilename), so that
//
//	kubeconform -schema-location 'DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json'
//
// judges objects with the same schemas as envctl. Each file declares
// draft 2020-12 ("$schema"; kubeconform assumes draft 4 otherwise), holds
// the definitions its kind reaches under "$defs", and with strict set has
// unknown fields closed exactly as Load(version, true) closes them:
// kubeconform's own -strict flag does not add additionalProperties: false
// to a schema (it only picks a "-strict" schema directory through
// {{ .StrictSuffix }} and rejects duplicate YAML keys).
//
// Two kinds whose groups share a first DNS label would share a file name;
// that is an error rather than a silent overwrite.
func ExportKubeconform(dir, version string, strict bool) error {
	v, err := normalizeVersion(version)
	if err != nil {
		return err
	}
	b, err := loadBundle(v)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	written := map[string]string{}
	for _, k := range b.Kinds {
		name := KubeconformFilename(k.APIVersion(), k.Kind)
		who := k.APIVersion() + " " + k.Kind
		if prev, ok := written[name]; ok {
			return fmt.Errorf("kubeconform file name %s is shared by %s and %s", name, prev, who)
		}
		written[name] = who

		defs := map[string]any{}
		var reach func(def string)
		reach = func(def string) {
			if _, ok := defs[def]; ok {
				return
			}
			bd, _ := b.Def(def)
			d := prepareDef(bd, strict, func(ref string) string { return ref })
			defs[def] = d
			for _, r := range translate.Refs(d) {
				reach(strings.TrimPrefix(r, translate.DefsRefPrefix))
			}
		}
		reach(k.Def)
		doc := map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"$ref":    translate.DefsRefPrefix + k.Def,
			"$defs":   defs,
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}
