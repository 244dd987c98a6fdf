// Package overlay renders kustomizations with the kustomize library (krusty)
// exactly as the kustomize v5 CLI does, and records what each render read so
// that a cached result can be proven still valid without rendering again.
package overlay
