// Package validate checks rendered Kubernetes objects: against the
// Kubernetes schemas of a chosen version (package k8sschema), per input
// (an environment's kubeVersion), against the schemas of
// CustomResourceDefinitions found in the repository or in the rendered
// objects and their x-kubernetes-validations (CEL) rules, against the
// limits the API server enforces beyond the schemas (names, labels,
// annotations, keys, sizes), and against the application-config contracts
// and the per-environment policies of envctl.yaml.
//
// # The API server's own code
//
// CEL rules, list-type uniqueness and the CRD checks of rules (compile
// errors, estimated cost) run k8s.io/apiextensions-apiserver's code, and
// the limits run k8s.io/apimachinery's validation functions, the ones the
// API server calls; what envctl adds is the choice of function per kind
// and version (limits.go). The corpora under testdata/corpus/cel and
// testdata/corpus/limits hold the real kube-apiserver's verdicts, checked
// in CI (apiserver_test.go).
//
// Validation returns data: a Report holding one Result per object with
// its Status (Valid, Invalid, Error, Skipped) and Problems, each with the
// rule that found it, the field path, a message and, when known, the
// source file in the repository. The printers (text, JSON, JUnit, SARIF)
// only print a Report; the validator knows nothing about printing.
//
// # Decoding
//
// Documents are decoded as kubectl and kubeconform decode them (YAML 1.1
// by go.yaml.in/yaml/v2, as sigs.k8s.io/yaml does, so "on" and "yes" are
// booleans), straight into JSON values without the JSON round trip.
// Duplicate keys are a finding in strict mode, as the API server's strict
// field validation reports them ("duplicate field").
//
// # Secrets
//
// Values of Secrets never appear in a message: problems found in a Secret
// (its schema, its contract, the parse errors of its payloads) are
// rewritten from the failed constraint, without the value (see
// redactMessage).
//
// # Sources
//
// An object rendered from an environment is mapped back to the file that
// defines it through Input.Origins, a callback the caller supplies
// (overlay.Origins renders the environment a second time with kustomize's
// origin annotations switched on). Rendering is not this package's job,
// and it does not import the renderer. The callback runs only for inputs
// with findings, so a clean run costs nothing extra.
package validate
