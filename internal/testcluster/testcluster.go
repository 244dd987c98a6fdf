package testcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// The users in the cluster's token file; each is also a kubeconfig context.
const (
	UserAdmin  = "admin"  // group system:masters
	UserReader = "reader" // no rights until a test grants some
	UserNobody = "nobody" // no rights
)

// Users lists the cluster's users, admin first.
var Users = []string{UserAdmin, UserReader, UserNobody}

// ServiceClusterIPRange is the kube-apiserver's --service-cluster-ip-range.
const ServiceClusterIPRange = "10.0.0.0/24"

// Options tunes New. The zero value is fine.
type Options struct {
	KubeAPIServer string        // path; "" means KubeAPIServerPath()
	Etcd          string        // path; "" means EtcdPath()
	StartTimeout  time.Duration // for kube-apiserver's /readyz; 0 means 60s
	// ExtraAPIServerArgs are appended to the kube-apiserver command line
	// (a later --flag=value overrides an earlier one).
	ExtraAPIServerArgs []string
	// Logf, if set, receives progress messages (e.g. testing.TB.Logf).
	Logf func(format string, args ...any)
}

// Cluster is a running etcd + kube-apiserver pair.
type Cluster struct {
	// Server is the API server's URL, https://127.0.0.1:<port>.
	Server string
	// Kubeconfig is the path of a kubeconfig with one context per user
	// (named like the user; current-context admin).
	Kubeconfig string
	// CAData is the PEM CA certificate that signed the serving certificate.
	CAData []byte
	// Dir holds the cluster's files: certificates, token file, kubeconfig,
	// etcd data, etcd.log and kube-apiserver.N.log (one per start). Stop removes it unless
	// ENVCTL_TESTCLUSTER_KEEP is set.
	Dir string
	// EtcdURL is etcd's client URL.
	EtcdURL string
	// StartupDuration is how long New took, binaries found to /readyz ok.
	StartupDuration time.Duration

	tokens  map[string]string
	etcd    *proc
	apiserv *proc
	// restart is how to start kube-apiserver again (RestartAPIServer).
	restart  func() (*proc, error)
	starts   int
	stopOnce sync.Once
}

type user struct {
	name, token string
	groups      []string
}

// Start starts a cluster for tb and stops it in tb.Cleanup. When a binary is
// missing it skips tb, or fails it if CI is set.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := New(Options{Logf: tb.Logf})
	if err != nil {
		skipOrFatal(tb, err)
	}
	tb.Cleanup(func() { c.Stop() })
	return c
}

// New starts etcd and kube-apiserver and waits until the API server is ready.
// The caller must call Stop. A missing binary gives a *MissingDependencyError.
func New(opts Options) (*Cluster, error) {
	begin := time.Now()
	logf := opts.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	apiserverBin, etcdBin := opts.KubeAPIServer, opts.Etcd
	var err error
	if apiserverBin == "" {
		if apiserverBin, err = KubeAPIServerPath(); err != nil {
			return nil, err
		}
	}
	if etcdBin == "" {
		if etcdBin, err = EtcdPath(); err != nil {
			return nil, err
		}
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}

	// Free ports are only free when picked; a race with another process is
	// rare, and then the whole start is retried with new ports.
	const attempts = 3
	for i := 1; ; i++ {
		c, err := start(apiserverBin, etcdBin, opts, logf)
		if err == nil {
			c.StartupDuration = time.Since(begin)
			logf("testcluster: %s ready in %s (etcd %s, dir %s)", c.Server, c.StartupDuration.Round(time.Millisecond), c.EtcdURL, c.Dir)
			return c, nil
		}
		if i == attempts || !strings.Contains(err.Error(), "address already in use") {
			return nil, err
		}
		logf("testcluster: port conflict, retrying: %v", err)
	}
}

const dirPrefix = "envctl-testcluster-"

func start(apiserverBin, etcdBin string, opts Options, logf func(string, ...any)) (_ *Cluster, err error) {
	sweepStale(logf)
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, tokens: map[string]string{}}
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()

	p, err := newPKI()
	if err != nil {
		return nil, err
	}
	c.CAData = p.caPEM
	users := []user{
		{name: UserAdmin, token: randToken(), groups: []string{"system:masters"}},
		{name: UserReader, token: randToken()},
		{name: UserNobody, token: randToken()},
	}
	for _, u := range users {
		c.tokens[u.name] = u.token
	}
	if err := writeFiles(dir, map[string][]byte{
		"ca.crt":      p.caPEM,
		"ca.key":      p.caKeyPEM,
		"serving.crt": p.servingPEM,
		"serving.key": p.servingKey,
		"sa.key":      p.saKeyPEM,
		"sa.pub":      p.saPubPEM,
		"tokens.csv":  tokenFile(users),
	}); err != nil {
		return nil, err
	}
	for _, d := range []string{"etcd-data", "cert-dir"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			return nil, err
		}
	}

	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	etcdClient, etcdPeer, apiPort := ports[0], ports[1], ports[2]
	c.EtcdURL = fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	c.Server = fmt.Sprintf("https://127.0.0.1:%d", apiPort)

	// etcd
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcdArgs := []string{
		"--name=envctl-test",
		"--data-dir=" + filepath.Join(dir, "etcd-data"),
		"--listen-client-urls=" + c.EtcdURL,
		"--advertise-client-urls=" + c.EtcdURL,
		"--listen-peer-urls=" + peerURL,
		"--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=envctl-test=" + peerURL,
		"--initial-cluster-state=new",
		"--log-level=warn",
	}
	help := etcdHelp(etcdBin)
	for _, flag := range []string{
		"--logger=zap",         // etcd 3.4 defaults to the deprecated capnslog
		"--log-outputs=stderr", // 3.4+
		"--unsafe-no-fsync",    // 3.5+ (not Debian's 3.4): much faster, fine for tests
	} {
		if bytes.Contains(help, []byte(strings.SplitN(flag, "=", 2)[0]+" ")) {
			etcdArgs = append(etcdArgs, flag)
		}
	}
	// ETCD_* variables would configure etcd too (and clash with the flags).
	c.etcd, err = startProc("etcd", etcdBin, etcdArgs, envWithout("ETCD_"), filepath.Join(dir, "etcd.log"))
	if err != nil {
		return nil, err
	}
	if err := waitFor(c.etcd, 20*time.Second, func() bool {
		resp, err := http.Get(c.EtcdURL + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}); err != nil {
		return nil, err
	}

	// kube-apiserver
	f := func(name string) string { return filepath.Join(dir, name) }
	args := []string{
		"--etcd-servers=" + c.EtcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(apiPort),
		"--cert-dir=" + f("cert-dir"),
		"--tls-cert-file=" + f("serving.crt"),
		"--tls-private-key-file=" + f("serving.key"),
		"--client-ca-file=" + f("ca.crt"),
		"--token-auth-file=" + f("tokens.csv"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=" + c.Server,
		"--service-account-key-file=" + f("sa.pub"),
		"--service-account-signing-key-file=" + f("sa.key"),
		"--service-cluster-ip-range=" + ServiceClusterIPRange,
		"--allow-privileged=true",
		// No controller-manager creates the "default" ServiceAccount, so the
		// ServiceAccount admission plugin would reject every Pod.
		"--disable-admission-plugins=ServiceAccount",
		// The endpoint reconciler refuses a loopback --advertise-address
		// ("may not be in the loopback range") and kube-apiserver exits.
		"--endpoint-reconciler-type=none",
		"--profiling=false",
	}
	args = append(args, opts.ExtraAPIServerArgs...)
	c.restart = func() (*proc, error) {
		c.starts++
		return startProc("kube-apiserver", apiserverBin, args, os.Environ(), f(fmt.Sprintf("kube-apiserver.%d.log", c.starts)))
	}
	c.apiserv, err = c.restart()
	if err != nil {
		return nil, err
	}
	if err := c.waitReady(opts.StartTimeout); err != nil {
		return nil, err
	}

	c.Kubeconfig = f("kubeconfig")
	if err := c.writeKubeconfig(); err != nil {
		return nil, err
	}
	return c, nil
}

// ownerFile in a cluster's Dir holds the pid of the test process that owns it.
const ownerFile = "owner.pid"

// sweepStale removes the directories of clusters whose test process died
// without stopping them (go test -timeout, SIGKILL): the kernel kills their
// etcd and kube-apiserver (see setProcAttrs), but etcd's data (over 100 MB of
// preallocated WAL) would stay in the temp dir.
func sweepStale(logf func(string, ...any)) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, d := range dirs {
		data, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue // kept on purpose, or not ours
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || processAlive(pid) {
			continue
		}
		if os.RemoveAll(d) == nil {
			logf("testcluster: removed %s, left by dead test process %d", d, pid)
		}
	}
}

// etcdHelp returns the output of etcd --help, which lists each flag as
// "  --name 'default'"; flags differ between etcd 3.4, 3.5 and 3.6.
func etcdHelp(etcdBin string) []byte {
	out, _ := exec.Command(etcdBin, "--help").CombinedOutput()
	return out
}

// waitFor polls ok until it returns true, p exits, or timeout passes.
func waitFor(p *proc, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s exited before it was ready (%v); last lines of %s:\n%s",
				p.name, p.waitErr, p.logPath, p.logTail(40))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s; last lines of %s:\n%s",
				p.name, timeout, p.logPath, p.logTail(40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitReady waits for /readyz and for the "default" namespace, which the
// apiserver creates shortly after it starts serving.
func (c *Cluster) waitReady(timeout time.Duration) error {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.CAData)
	hc := &http.Client{
		Timeout:   5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	defer hc.CloseIdleConnections()
	var last string
	get := func(path string) bool {
		req, _ := http.NewRequest(http.MethodGet, c.Server+path, nil)
		req.Header.Set("Authorization", "Bearer "+c.tokens[UserAdmin])
		resp, err := hc.Do(req)
		if err != nil {
			last = err.Error()
			return false
		}
		defer resp.Body.Close()
		var body bytes.Buffer
		body.ReadFrom(resp.Body)
		last = fmt.Sprintf("GET %s: %s %s", path, resp.Status, body.String())
		return resp.StatusCode == http.StatusOK
	}
	err := waitFor(c.apiserv, timeout, func() bool {
		return get("/readyz") && get("/api/v1/namespaces/default")
	})
	if err != nil && last != "" {
		err = fmt.Errorf("%w\nlast probe: %s", err, last)
	}
	return err
}

func (c *Cluster) writeKubeconfig() error {
	const cluster = "envctl-test"
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.CAData}
	for _, u := range Users {
		cfg.AuthInfos[u] = &clientcmdapi.AuthInfo{Token: c.tokens[u]}
		cfg.Contexts[u] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: u, Namespace: "default"}
	}
	cfg.CurrentContext = UserAdmin
	return clientcmd.WriteToFile(*cfg, c.Kubeconfig)
}

// Stop kills kube-apiserver and etcd and removes Dir (unless
// ENVCTL_TESTCLUSTER_KEEP is set). It is safe to call more than once.
func (c *Cluster) Stop() {
	c.stopOnce.Do(func() {
		c.apiserv.stop()
		c.etcd.stop()
		if c.Dir == "" {
			return
		}
		if os.Getenv(EnvKeep) == "" {
			os.RemoveAll(c.Dir)
		} else {
			os.Remove(filepath.Join(c.Dir, ownerFile)) // keep it from sweepStale too
		}
	})
}

// StopAPIServer kills kube-apiserver (etcd keeps running), as an outage
// would: clients get connection refused until StartAPIServer.
func (c *Cluster) StopAPIServer() { c.apiserv.stop() }

// StartAPIServer starts kube-apiserver again on the same port, with the
// same etcd, and waits until it is ready.
func (c *Cluster) StartAPIServer() error {
	p, err := c.restart()
	if err != nil {
		return err
	}
	c.apiserv = p
	return c.waitReady(60 * time.Second)
}

// Token returns the bearer token of user (one of Users); it panics for
// an unknown user.
func (c *Cluster) Token(user string) string {
	t, ok := c.tokens[user]
	if !ok {
		panic(fmt.Sprintf("testcluster: unknown user %q (want one of %v)", user, Users))
	}
	return t
}

// RESTConfig returns a client config that authenticates as user (one of
// Users); it panics for an unknown user. Client-side rate limits are raised
// so that tests are not throttled.
func (c *Cluster) RESTConfig(user string) *rest.Config {
	return &rest.Config{
		Host:            c.Server,
		BearerToken:     c.Token(user),
		TLSClientConfig: rest.TLSClientConfig{CAData: bytes.Clone(c.CAData)},
		QPS:             200,
		Burst:           400,
		UserAgent:       "envctl-testcluster/" + user,
	}
}

// APIServerLogTail returns the last n lines of kube-apiserver's log.
func (c *Cluster) APIServerLogTail(n int) string { return c.apiserv.logTail(n) }

// Namespace creates a namespace named prefix-<random> as admin and returns its
// name. Namespaces are never deleted: without controllers they would stay
// Terminating anyway, and the cluster goes away with the test binary.
func (c *Cluster) Namespace(tb testing.TB, prefix string) string {
	tb.Helper()
	dc, err := dynamic.NewForConfig(c.RESTConfig(UserAdmin))
	if err != nil {
		tb.Fatalf("testcluster: %v", err)
	}
	ns := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1",
		"kind":       "Namespace",
		"metadata":   map[string]any{"generateName": prefix + "-"},
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := dc.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).
		Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		tb.Fatalf("testcluster: create namespace %s-*: %v", prefix, err)
	}
	return got.GetName()
}

// RunKubectl runs kubectl against the cluster (--kubeconfig c.Kubeconfig, so
// the admin context unless args say --context=reader etc.) with stdin as its
// input, and returns its stdout and stderr. err is non-nil when kubectl fails
// or cannot be found (a *MissingDependencyError).
func (c *Cluster) RunKubectl(stdin string, args ...string) (stdout, stderr string, err error) {
	kubectl, err := KubectlPath()
	if err != nil {
		return "", "", err
	}
	full := append([]string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + filepath.Join(c.Dir, "kubectl-cache")}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kubectl, full...)
	cmd.Env = envWithout("KUBECONFIG=")
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	if err != nil {
		err = fmt.Errorf("kubectl %s: %w\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String(), err
}

// Kubectl runs kubectl (see RunKubectl) and returns its stdout; it fails tb
// with kubectl's stderr when kubectl fails.
func (c *Cluster) Kubectl(tb testing.TB, args ...string) string {
	tb.Helper()
	return c.KubectlInput(tb, "", args...)
}

// KubectlInput is Kubectl with stdin as kubectl's input (e.g. for "-f -").
func (c *Cluster) KubectlInput(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	out, _, err := c.RunKubectl(stdin, args...)
	if err != nil {
		var md *MissingDependencyError
		if errors.As(err, &md) {
			skipOrFatal(tb, err)
		}
		tb.Fatalf("testcluster: %v", err)
	}
	return out
}

// shared is the package-wide cluster behind Main and Shared.
var shared struct {
	mu      sync.Mutex
	inMain  bool
	started bool
	c       *Cluster
	err     error
}

// Main runs a test package's tests and then stops the cluster that Shared
// started, if any. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	code := m.Run()
	shared.mu.Lock()
	if shared.c != nil {
		shared.c.Stop()
	}
	shared.mu.Unlock()
	os.Exit(code)
}

// Shared returns the package's cluster, starting it on first use; it needs
// Main in TestMain, which stops it after all tests ran. When a binary is
// missing it skips tb, or fails it if CI is set. A failed start is not
// retried: every later Shared call fails the same way.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.inMain {
		tb.Fatalf("testcluster.Shared needs `func TestMain(m *testing.M) { testcluster.Main(m) }` in the test package (or use testcluster.Start)")
	}
	if !shared.started {
		shared.started = true
		shared.c, shared.err = New(Options{Logf: tb.Logf})
	}
	if shared.err != nil {
		skipOrFatal(tb, shared.err)
	}
	return shared.c
}
