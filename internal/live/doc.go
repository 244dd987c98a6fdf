// Package live reads the live objects of an environment from a cluster,
// read-only: kubeconfig loading as kubectl does it, discovery and a REST
// mapper, then one LIST per kind per namespace with the dynamic client,
// bounded in concurrency. It never makes a write call.
//
// It also owns snapshot files, the other source of live objects: their
// format and the checks that refuse a file that is not what it claims
// (snapfile.go), and the digests that stand for Secret values in them
// (digest.go, snapshot.go).
package live
