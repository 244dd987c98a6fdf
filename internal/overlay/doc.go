// Package overlay renders kustomizations with the kustomize library (krusty)
// exactly as the kustomize v5 CLI does, and records what each render read so
// that a cached result can be proven still valid without rendering again.
//
// A failed render is an *Error. When the mistake is one Render recognises
// by reading the kustomization files (a missing resource or patch file, a
// cycle of bases, a generator's missing or non-UTF-8 env file), the
// message starts with a Cause naming the file and field, and kustomize's
// own text follows on a second line prefixed "kustomize: ".
//
// Origins is a second kind of render: it maps each rendered object back to
// the file that defines it, for checkers that report findings by file and
// line.
package overlay
