// Package live reads the live objects of an environment from a cluster,
// read-only: kubeconfig loading as kubectl does it, discovery and a REST
// mapper, then one LIST per kind per namespace with the dynamic client,
// bounded in concurrency. It never makes a write call.
package live
