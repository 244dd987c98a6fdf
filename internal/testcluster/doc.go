// Package testcluster runs a real, private Kubernetes API server for tests.
//
// It owns everything needed to bring one up and tear it down again on
// 127.0.0.1: a throw-away etcd (its own data dir and random ports, never the
// system service), a kube-apiserver built from k8s.io/kubernetes at the
// version pinned in hack/kube-apiserver/go.mod, a self-signed CA and serving
// certificate, a service-account signing key, a static token file with three
// users, and a kubeconfig with one context per user. No controllers run (there
// is no kube-controller-manager, scheduler or kubelet): objects are stored and
// validated, but Deployments get no Pods and deleted Namespaces stay
// Terminating. Tests isolate themselves by namespace (see Cluster.Namespace).
//
// # Users
//
//   - UserAdmin ("admin") is in group system:masters and may do anything.
//   - UserReader ("reader") and UserNobody ("nobody") are only
//     system:authenticated; RBAC tests grant rights to reader and check that
//     nobody stays forbidden.
//
// # Binaries
//
// kube-apiserver is taken from $ENVCTL_KUBE_APISERVER, else from
// ${ENVCTL_TEST_BIN:-${XDG_CACHE_HOME:-$HOME/.cache}/envctl-test}/kube-apiserver-<KubeAPIServerVersion>,
// which `bash hack/build-kube-apiserver.sh` builds. etcd is taken from
// $ENVCTL_ETCD, else from PATH (Debian: apt-get install etcd-server). kubectl
// (for Cluster.Kubectl only) is $ENVCTL_KUBECTL, else /usr/bin/kubectl, else
// PATH. When one is missing, tests are skipped with the command that fixes it,
// unless CI is set: then they fail (`bash hack/ci-deps.sh` installs both).
//
// # Use
//
// A package shares one cluster between its tests:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
//
//	func TestDrift(t *testing.T) {
//		c := testcluster.Shared(t) // started on first use, stopped after m.Run
//		ns := c.Namespace(t, "drift")
//		c.Kubectl(t, "apply", "--server-side", "-n", ns, "-f", "testdata/app.yaml")
//		cfg := c.RESTConfig(testcluster.UserAdmin)
//		...
//	}
//
// Start(t) gives a test a cluster of its own instead, stopped by t.Cleanup;
// New/Stop do the same without a testing.TB.
//
// Set ENVCTL_TESTCLUSTER_KEEP=1 to keep the cluster's directory (certificates,
// kubeconfig, etcd.log, kube-apiserver.N.log, one per start) after it stops.
package testcluster
