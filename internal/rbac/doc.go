// Package rbac works out the least Kubernetes RBAC that `envctl diff`
// needs to compare environments with their cluster, and writes it as
// Roles, a ClusterRole and their bindings to one service account.
//
// What diff reads is what live.QueryFor says it lists: every kind an
// environment renders, in every namespace it renders into and its default
// namespace, with one LIST each (cluster-scoped kinds once, cluster-wide).
// So a namespace's Role grants get and list on every namespaced resource
// the environment renders, and the ClusterRole, only when the render has
// cluster-scoped objects, on those. Kinds are mapped to resources offline:
// built-in kinds from the Kubernetes API paths recorded in package
// k8sschema, custom resources from CustomResourceDefinitions in the
// render or in the repository's crds: entries. Discovery (/version, /api,
// /apis) needs no rule: Kubernetes grants it to every authenticated user
// (the system:discovery and system:public-info-viewer ClusterRoles).
package rbac
