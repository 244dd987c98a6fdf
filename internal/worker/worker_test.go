package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/envctl/envctl/bench/gen"
	"github.com/envctl/envctl/internal/overlay"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// The test binary is its own worker: started by a Pool with argv0 "worker",
// it does what envctl's hidden command does; "crash" fails as a worker
// that dies would; "pidfile" records its pid, then serves.
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case "worker":
		os.Exit(serveArgs(os.Args[1:]))
	case "crash":
		fmt.Fprintln(os.Stderr, "fatal error: out of memory")
		os.Exit(3)
	case "pidfile":
		if err := os.WriteFile(os.Getenv("WORKER_PIDFILE"), []byte(fmt.Sprint(os.Getpid())), 0o644); err != nil {
			os.Exit(4)
		}
		os.Exit(serveArgs(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// serveArgs parses what Pool passes: Command --timeout D -- DIR.
func serveArgs(args []string) int {
	if len(args) != 5 || args[0] != Command || args[1] != "--timeout" || args[3] != "--" {
		fmt.Fprintf(os.Stderr, "unexpected worker arguments %q\n", args)
		return 2
	}
	d, err := time.ParseDuration(args[2])
	if err != nil {
		return 2
	}
	if err := Serve(context.Background(), filesys.MakeFsOnDisk(), args[4], overlay.Options{RemoteTimeout: d}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	return 0
}

func newPool(t *testing.T, argv0 string) *Pool {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return New(exe, argv0, 0) // every render is large enough for a child
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		p = filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - name: api
        image: example/api:1.0.0
        envFrom:
        - configMapRef: {name: app-config}
`

func appTree(t *testing.T, level string) string {
	return writeTree(t, map[string]string{
		"kustomization.yaml": "resources: [deployment.yaml]\nconfigMapGenerator:\n- name: app-config\n  literals: [LOG_LEVEL=" + level + "]\n",
		"deployment.yaml":    app,
	})
}

// renderAtOnce starts n renders through p and releases them together, so
// that all but one must go to children.
func renderAtOnce(p *Pool, dirs []string) ([]*overlay.Result, []error) {
	rs := make([]*overlay.Result, len(dirs))
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rs[i], errs[i] = p.Render(context.Background(), filesys.MakeFsOnDisk(), d, overlay.Options{})
		}()
	}
	wg.Wait()
	return rs, errs
}

func TestChildrenRenderExactlyWhatThisProcessRenders(t *testing.T) {
	p := newPool(t, "worker")
	// Hold the in-process slot, as a render running here would: every
	// render below must then run in a child.
	p.local <- struct{}{}
	dirs := []string{appTree(t, "debug"), appTree(t, "info"), appTree(t, "warn")}
	got, errs := renderAtOnce(p, dirs)
	<-p.local
	for i, d := range dirs {
		if errs[i] != nil {
			t.Fatalf("%s: %v", d, errs[i])
		}
		want, err := overlay.Render(context.Background(), filesys.MakeFsOnDisk(), d, overlay.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("%s: the child's result differs from the in-process one:\n%s\nvs\n%s", d, got[i].YAML, want.YAML)
		}
		if !got[i].Cacheable() || len(got[i].Inputs) == 0 {
			t.Errorf("%s: the child's result lost its inputs or cacheability", d)
		}
	}
}

func TestOneRenderAtATimeStaysInProcess(t *testing.T) {
	// A pool whose children could only crash: renders one after another
	// succeed, so none of them started a child.
	p := newPool(t, "crash")
	for _, level := range []string{"debug", "info"} {
		if _, err := p.Render(context.Background(), filesys.MakeFsOnDisk(), appTree(t, level), overlay.Options{}); err != nil {
			t.Fatalf("a lone render went to a child: %v", err)
		}
	}
}

func TestSmallRendersStayInProcess(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := New(exe, "crash", DefaultMinObjects)
	p.local <- struct{}{}
	defer func() { <-p.local }()
	if _, err := p.Render(context.Background(), filesys.MakeFsOnDisk(), appTree(t, "debug"), overlay.Options{}); err != nil {
		t.Fatalf("a two-object render went to a child: %v", err)
	}
}

func TestAChildsRenderErrorKeepsItsTypeAndMessage(t *testing.T) {
	dir := writeTree(t, map[string]string{"kustomization.yaml": "resources: [missing.yaml]\n"})
	_, want := overlay.Render(context.Background(), filesys.MakeFsOnDisk(), dir, overlay.Options{})
	p := newPool(t, "worker")
	p.local <- struct{}{}
	_, errs := renderAtOnce(p, []string{dir})
	var re *overlay.Error
	if !errors.As(errs[0], &re) {
		t.Fatalf("err = %T %v, want *overlay.Error", errs[0], errs[0])
	}
	if errs[0].Error() != want.Error() {
		t.Errorf("child error:\n%s\nin-process error:\n%s", errs[0], want)
	}
}

func TestADeadChildIsAnErrorNamingTheDirectory(t *testing.T) {
	p := newPool(t, "crash")
	p.local <- struct{}{}
	dir := appTree(t, "debug")
	_, errs := renderAtOnce(p, []string{dir})
	if errs[0] == nil {
		t.Fatal("a crashed worker's render succeeded")
	}
	for _, want := range []string{dir, "render worker failed", "exit status 3", "out of memory"} {
		if !strings.Contains(errs[0].Error(), want) {
			t.Errorf("error lacks %q: %v", want, errs[0])
		}
	}
}

func TestCancelStopsTheChild(t *testing.T) {
	// Big enough that the render is still running when it is cancelled.
	repo := t.TempDir()
	if err := gen.Write(repo, gen.Spec{Envs: 1, Objects: 2000}); err != nil {
		t.Fatal(err)
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("WORKER_PIDFILE", pidfile)
	p := newPool(t, "pidfile")
	p.local <- struct{}{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := p.Render(ctx, filesys.MakeFsOnDisk(), filepath.Join(repo, "environments", "env-00"), overlay.Options{})
		done <- err
	}()
	var pid int
	for pid == 0 {
		b, _ := os.ReadFile(pidfile)
		fmt.Sscan(string(bytes.TrimSpace(b)), &pid)
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Render returned after Wait, so the child has been reaped: it is gone.
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("worker %d still exists after cancel (kill 0: %v)", pid, err)
	}
}
