package validate

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/envctl/envctl/internal/k8sschema"
)

// RuleAPILimits is the rule id of the limits the API server enforces
// beyond the OpenAPI schemas: names, labels, annotations, ConfigMap and
// Secret keys, and sizes.
const RuleAPILimits = "api-limits"

// The sizes the API server and etcd refuse.
const (
	// maxDataSize is core.MaxSecretSize: the data of a ConfigMap (data
	// and binaryData) or a Secret (decoded data and stringData).
	maxDataSize = 1 << 20
	// maxRequestSize is the API server's limit on a request body
	// (apiserver's MaxRequestBodyBytes, 3 MiB).
	maxRequestSize = 3 << 20
	// maxEtcdSize is etcd's default --max-request-bytes (1.5 MiB): an
	// object larger than that is accepted by validation and refused when
	// it is stored.
	maxEtcdSize = 3 << 19
)

// nameRules are the name validations of the kinds whose names are not
// DNS-1123 subdomains (k8s.io/kubernetes pkg/apis/*/validation).
var nameRules = map[string]apimachineryvalidation.ValidateNameFunc{
	// A DNS-1035 label before Kubernetes 1.36 (checkLimits).
	"v1/Service":                                      apimachineryvalidation.NameIsDNSLabel,
	"v1/Namespace":                                    apimachineryvalidation.ValidateNamespaceName,
	"apps/v1/StatefulSet":                             apimachineryvalidation.NameIsDNSLabel,
	"rbac.authorization.k8s.io/v1/Role":               path.ValidatePathSegmentName,
	"rbac.authorization.k8s.io/v1/ClusterRole":        path.ValidatePathSegmentName,
	"rbac.authorization.k8s.io/v1/RoleBinding":        path.ValidatePathSegmentName,
	"rbac.authorization.k8s.io/v1/ClusterRoleBinding": path.ValidatePathSegmentName,
}

// podTemplates are where kinds keep the metadata of their pod templates,
// whose labels and annotations the API server checks too.
var podTemplates = map[string][][]string{
	"apps/v1/Deployment":  {{"spec", "template", "metadata"}},
	"apps/v1/StatefulSet": {{"spec", "template", "metadata"}},
	"apps/v1/DaemonSet":   {{"spec", "template", "metadata"}},
	"apps/v1/ReplicaSet":  {{"spec", "template", "metadata"}},
	"batch/v1/Job":        {{"spec", "template", "metadata"}},
	"batch/v1/CronJob":    {{"spec", "jobTemplate", "metadata"}, {"spec", "jobTemplate", "spec", "template", "metadata"}},
	"v1/PodTemplate":      {{"template", "metadata"}},
}

// checkLimits returns what the API server's own validation (the
// apimachinery functions it calls) finds in an object's names, labels,
// annotations, ConfigMap and Secret keys and sizes. Messages never hold a
// Secret's value: they name keys and sizes only.
func checkLimits(obj map[string]any, id Object, kubeVersion string, docSize int) []Problem {
	var errs field.ErrorList
	gvk := id.APIVersion + "/" + id.Kind
	if m, ok := obj["metadata"].(map[string]any); ok {
		if meta, ok := objectMeta(m); ok {
			nameFn, ok := nameRules[gvk]
			if !ok {
				nameFn = apimachineryvalidation.NameIsDNSSubdomain
			}
			if gvk == "v1/Service" && k8sschema.CompareVersions(kubeVersion, "1.36") < 0 {
				// RelaxedServiceNameValidation (on from 1.36) allows a
				// leading digit.
				nameFn = apimachineryvalidation.NameIsDNS1035Label
			}
			// A namespace is checked when there is one; objects that
			// leave it to kubectl's context have none yet.
			errs = append(errs, apimachineryvalidation.ValidateObjectMeta(&meta, meta.Namespace != "", nameFn, field.NewPath("metadata"))...)
			if gvk == "batch/v1/CronJob" && len(meta.Name) > 52 {
				// Its Jobs are named NAME-<11 characters of time>.
				errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), meta.Name, "must be no more than 52 characters"))
			}
		}
	}
	for _, p := range podTemplates[gvk] {
		m, ok := mapAt(obj, p...)
		if !ok {
			continue
		}
		meta, ok := objectMeta(m)
		if !ok {
			continue
		}
		// The API server names these fields without "metadata"
		// (spec.template.labels).
		fp := field.NewPath(p[0], p[1:len(p)-1]...)
		errs = append(errs, metav1validation.ValidateLabels(meta.Labels, fp.Child("labels"))...)
		errs = append(errs, apimachineryvalidation.ValidateAnnotations(meta.Annotations, fp.Child("annotations"))...)
	}
	switch gvk {
	case "v1/ConfigMap":
		errs = append(errs, configMapLimits(obj)...)
	case "v1/Secret":
		errs = append(errs, secretLimits(obj)...)
	}
	var out []Problem
	for _, e := range errs {
		out = append(out, Problem{Rule: RuleAPILimits, Path: fieldToPointer(e.Field), Message: limitMessage(e)})
	}
	// Encoding every object to JSON to learn its size would cost more
	// than the rest of its checks; its YAML document's size bounds it
	// (JSON takes at most a few times the bytes of the same YAML: quotes,
	// commas, and six bytes for an escaped character).
	if docSize < maxEtcdSize/8 {
		return out
	}
	if data, err := json.Marshal(obj); err == nil {
		switch n := len(data); {
		case n > maxRequestSize:
			out = append(out, Problem{Rule: RuleAPILimits, Message: fmt.Sprintf("the object is %d bytes as JSON; the API server takes requests of at most %d bytes (3 MiB)", n, maxRequestSize)})
		case n > maxEtcdSize:
			out = append(out, Problem{Rule: RuleAPILimits, Message: fmt.Sprintf("the object is %d bytes as JSON; etcd stores objects of at most %d bytes (1.5 MiB)", n, maxEtcdSize)})
		}
	}
	return out
}

// limitMessage is a field error without its field (the problem has it)
// and without the value for errors about sizes.
func limitMessage(e *field.Error) string {
	if e.Type == field.ErrorTypeTooLong || e.Type == field.ErrorTypeTooMany {
		return e.Type.String() + ": " + e.Detail
	}
	return e.ErrorBody()
}

// configMapLimits is core validation's ValidateConfigMap, for what the
// schema does not say: key names, a key in both data and binaryData, and
// the total size.
func configMapLimits(obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	data, _ := obj["data"].(map[string]any)
	binary, _ := obj["binaryData"].(map[string]any)
	total := 0
	for _, key := range sortedKeys(data) {
		for _, msg := range utilvalidation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, msg))
		}
		if _, dup := binary[key]; dup {
			errs = append(errs, field.Invalid(field.NewPath("data").Key(key), key, "duplicate of key present in binaryData"))
		}
		s, _ := data[key].(string)
		total += len(s)
	}
	for _, key := range sortedKeys(binary) {
		for _, msg := range utilvalidation.IsConfigMapKey(key) {
			errs = append(errs, field.Invalid(field.NewPath("binaryData").Key(key), key, msg))
		}
		s, _ := binary[key].(string)
		total += decodedLen(s)
	}
	if total > maxDataSize {
		e := field.TooLong(field.NewPath(""), "", maxDataSize)
		e.Detail += fmt.Sprintf(" (the data is %d bytes)", total)
		errs = append(errs, e)
	}
	return errs
}

// secretLimits is core validation's ValidateSecret for the total size:
// stringData is merged into data before the API server
// validates, so both count.
func secretLimits(obj map[string]any) field.ErrorList {
	var errs field.ErrorList
	data, _ := obj["data"].(map[string]any)
	str, _ := obj["stringData"].(map[string]any)
	sizes := map[string]int{}
	for k, v := range data {
		s, _ := v.(string)
		sizes[k] = decodedLen(s)
	}
	for k, v := range str {
		s, _ := v.(string)
		sizes[k] = len(s)
	}
	// Key names are not checked here: a Secret's key may be a value
	// pasted by mistake, and the field path would print it. The Secret
	// key check (secretkeys.go) reports them by position.
	total := 0
	for _, key := range sortedKeys(sizes) {
		total += sizes[key]
	}
	if total > maxDataSize {
		e := field.TooLong(field.NewPath("data"), "", maxDataSize)
		e.Detail += fmt.Sprintf(" (the data is %d bytes)", total)
		errs = append(errs, e)
	}
	return errs
}

// decodedLen is the length of base64 data once decoded.
func decodedLen(s string) int {
	n := base64.StdEncoding.DecodedLen(len(s))
	for i := len(s) - 1; i >= 0 && s[i] == '='; i-- {
		n--
	}
	return max(n, 0)
}

// objectMeta reads the metadata fields the API server's checks look at.
// The common fields are read by hand: the unstructured converter's
// reflection, run on every object, cost more than the checks.
func objectMeta(m map[string]any) (metav1.ObjectMeta, bool) {
	var meta metav1.ObjectMeta
	for k, v := range m {
		switch k {
		case "name", "generateName", "namespace":
			s, ok := v.(string)
			if !ok && v != nil {
				return meta, false
			}
			switch k {
			case "name":
				meta.Name = s
			case "generateName":
				meta.GenerateName = s
			default:
				meta.Namespace = s
			}
		case "labels", "annotations":
			mm, ok := v.(map[string]any)
			if !ok && v != nil {
				return meta, false
			}
			ss := make(map[string]string, len(mm))
			for kk, vv := range mm {
				s, ok := vv.(string)
				if !ok && vv != nil {
					return meta, false
				}
				ss[kk] = s
			}
			if k == "labels" {
				meta.Labels = ss
			} else {
				meta.Annotations = ss
			}
		case "finalizers", "ownerReferences", "managedFields":
			// Rare in manifests: the converter reads them.
			var full metav1.ObjectMeta
			if runtime.DefaultUnstructuredConverter.FromUnstructured(m, &full) != nil {
				return meta, false
			}
			return full, true
		}
	}
	return meta, true
}
