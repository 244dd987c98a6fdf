// Package k8sschema validates Kubernetes objects offline against JSON
// Schemas generated from the Kubernetes project's own OpenAPI v3
// documents, for the Kubernetes minor versions in Versions().
//
// The schemas are embedded in the binary: data/v1.MINOR.json.gz holds one
// version's translated definitions (one shared "$defs" map) and an index
// of its group/version/kinds, each pointing at its definition and saying
// whether the resource is namespaced. `go generate ./internal/k8sschema`
// rewrites them (see internal/gen for the pinned releases, and package
// translate for how OpenAPI is turned into JSON Schema).
//
// A version's bundle is decompressed and decoded once per process, on the
// first Load of that version. Each kind's schema is compiled on first use,
// once, with github.com/santhosh-tekuri/jsonschema/v5 (draft 2020-12, format
// assertions on), and only the definitions it reaches are compiled; a Set
// is safe for concurrent use by many goroutines.
//
// # Strict mode
//
// Load(version, true) rejects fields that the schema does not list, as
// the API server's strict field validation does ("unknown field"):
// every object schema with listed properties and no additionalProperties
// gets "additionalProperties": false when a definition is compiled
// (translate.Close). Objects that Kubernetes keeps open
// (x-kubernetes-preserve-unknown-fields, maps, free-form objects such as
// RawExtension) stay open. Strictness is applied at load time rather than
// baked into a second set of bundles because it is a mechanical, cheap
// rewrite of each definition as it is compiled (about 4 ms of the ~30 ms
// a Deployment's first compile takes), while a second set of bundles
// would double the embedded size and could drift from the first.
//
// # Null
//
// The API server decodes null into the zero value of a field, so null is
// valid for every optional field (kubectl and kustomize emit
// "creationTimestamp: null"); a required field that is null is an error,
// as it is for the API server.
//
// # What is not checked
//
// Only what the OpenAPI schema says is checked: types, required fields,
// integer ranges of int32/int64 fields, base64 of []byte fields,
// RFC 3339 times, quantity syntax, unknown fields in strict mode. The
// API server's hand-written validation (name formats, label syntax,
// cross-field rules, enums that exist only in Go comments) is not;
// package validate adds the name, label, annotation, key and size limits
// with the API server's own functions.
//
//go:generate go run ./internal/gen -o data
package k8sschema
