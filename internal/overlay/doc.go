// Package overlay renders kustomizations with the kustomize library (krusty)
// exactly as the kustomize v5 CLI does, and records what each render read so
// that a cached result can be proven still valid without rendering again.
//
// Origins is a second kind of render: it maps each rendered object back to
// the file that defines it, for checkers that report findings by file and
// line.
package overlay
