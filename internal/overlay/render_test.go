package overlay

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// memTree writes files into an in-memory filesystem.
func memTree(t *testing.T, files map[string]string) filesys.FileSystem {
	t.Helper()
	fsys := filesys.MakeFsInMemory()
	for p, content := range files {
		if err := fsys.WriteFile(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

const appDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  selector:
    matchLabels: {app: api}
  template:
    metadata:
      labels: {app: api}
    spec:
      containers:
      - name: api
        image: example/api:1.0.0
        envFrom:
        - configMapRef: {name: app-config}
        env:
        - name: DB_URL
          valueFrom:
            secretKeyRef: {name: db, key: url}
`

func smallApp(level string) map[string]string {
	return map[string]string{
		"/repo/base/kustomization.yaml": `resources: [deployment.yaml]
configMapGenerator:
- name: app-config
  literals: [LOG_LEVEL=info]
secretGenerator:
- name: db
  literals: [url=postgres://fake@db/app]
`,
		"/repo/base/deployment.yaml": appDeployment,
		"/repo/envs/dev/kustomization.yaml": `resources: [../../base]
namespace: dev
configMapGenerator:
- name: app-config
  behavior: merge
  literals: [LOG_LEVEL=` + level + `]
`,
		"/repo/unrelated.txt": "not read by any render",
	}
}

var hashedName = regexp.MustCompile(`(app-config|db)-[a-z0-9]{10}`)

func TestRenderGivesHashedNamesAndRewritesReferences(t *testing.T) {
	fsys := memTree(t, smallApp("debug"))
	r, err := Render(context.Background(), fsys, "/repo/envs/dev", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Objects != 3 {
		t.Errorf("Objects = %d, want 3", r.Objects)
	}
	names := hashedName.FindAllString(string(r.YAML), -1)
	// Each generated name appears twice: where it is defined and where the
	// Deployment refers to it.
	count := map[string]int{}
	for _, n := range names {
		count[n]++
	}
	if len(count) != 2 {
		t.Fatalf("hashed names = %v, want one ConfigMap and one Secret name", count)
	}
	for n, c := range count {
		if c != 2 {
			t.Errorf("%s appears %d times, want 2 (definition and reference)\n%s", n, c, r.YAML)
		}
	}
	if !r.Cacheable() {
		t.Error("a local render must be cacheable")
	}
}

func TestChangingOneValueRenamesOnlyItsConfigMap(t *testing.T) {
	a, err := Render(context.Background(), memTree(t, smallApp("debug")), "/repo/envs/dev", Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Render(context.Background(), memTree(t, smallApp("trace")), "/repo/envs/dev", Options{})
	if err != nil {
		t.Fatal(err)
	}
	cm := regexp.MustCompile(`app-config-[a-z0-9]{10}`)
	sec := regexp.MustCompile(`db-[a-z0-9]{10}`)
	if cm.FindString(string(a.YAML)) == cm.FindString(string(b.YAML)) {
		t.Error("ConfigMap name did not change with its content")
	}
	if sec.FindString(string(a.YAML)) != sec.FindString(string(b.YAML)) {
		t.Error("Secret name changed although its content did not")
	}
}

func TestUnchangedTracksExactlyTheFilesTheRenderLookedAt(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(fsys filesys.FileSystem) error
		invalid bool
	}{
		{"nothing changed", func(filesys.FileSystem) error { return nil }, false},
		{"an unrelated file changed", func(f filesys.FileSystem) error {
			return f.WriteFile("/repo/unrelated.txt", []byte("edited"))
		}, false},
		{"a file beside the tree was added", func(f filesys.FileSystem) error {
			return f.WriteFile("/repo/envs/notes.md", []byte("hello"))
		}, false},
		{"a resource changed", func(f filesys.FileSystem) error {
			return f.WriteFile("/repo/base/deployment.yaml", []byte(strings.Replace(appDeployment, "1.0.0", "1.0.1", 1)))
		}, true},
		{"the overlay kustomization changed", func(f filesys.FileSystem) error {
			b, _ := f.ReadFile("/repo/envs/dev/kustomization.yaml")
			return f.WriteFile("/repo/envs/dev/kustomization.yaml", append(b, []byte("namePrefix: x-\n")...))
		}, true},
		{"a second kustomization file appeared beside the first", func(f filesys.FileSystem) error {
			return f.WriteFile("/repo/base/kustomization.yml", []byte("resources: []\n"))
		}, true},
		{"a resource was deleted", func(f filesys.FileSystem) error {
			return f.RemoveAll("/repo/base/deployment.yaml")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := memTree(t, smallApp("debug"))
			r, err := Render(context.Background(), fsys, "/repo/envs/dev", Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tt.edit(fsys); err != nil {
				t.Fatal(err)
			}
			if got := !Unchanged(fsys, r.Inputs); got != tt.invalid {
				t.Errorf("invalidated = %v, want %v", got, tt.invalid)
			}
		})
	}
}

func TestIsRemote(t *testing.T) {
	for ref, want := range map[string]bool{
		"../base":                                    false,
		"deployment.yaml":                            false,
		"https://example.com/base.yaml":              true,
		"http://127.0.0.1:1/cm.yaml":                 true,
		"github.com/org/repo/path?ref=v1":            true,
		"git::https://example.com/org/repo":          true,
		"git@github.com:org/repo.git":                true,
		"ssh://git@example.com/org/repo.git//deploy": true,
		"file:///tmp/repo":                           true,
		"dir/with@sign/x:y":                          false,
	} {
		if got := IsRemote(ref); got != want {
			t.Errorf("IsRemote(%q) = %v, want %v", ref, got, want)
		}
	}
}

func TestUnreachableRemoteBaseFailsNamingTheURL(t *testing.T) {
	// Port 1 on loopback refuses connections at once.
	url := "https://127.0.0.1:1/envctl-unreachable/base.git?ref=main"
	fsys := filesys.MakeFsOnDisk()
	dir := t.TempDir()
	if err := fsys.WriteFile(dir+"/kustomization.yaml", []byte("resources:\n- "+url+"\n")); err != nil {
		t.Fatal(err)
	}
	_, err := Render(context.Background(), fsys, dir, Options{RemoteTimeout: 60 * time.Second})
	if err == nil {
		t.Fatal("render of an unreachable remote base succeeded")
	}
	if !strings.Contains(err.Error(), "127.0.0.1:1/envctl-unreachable") {
		t.Errorf("error does not name the URL: %v", err)
	}
}

func TestRemoteBaseThatHangsTimesOut(t *testing.T) {
	// A listener that accepts and never answers: the fetch would hang.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	url := "http://" + ln.Addr().String() + "/base/configmap.yaml"
	fsys := filesys.MakeFsOnDisk()
	dir := t.TempDir()
	if err := fsys.WriteFile(dir+"/kustomization.yaml", []byte("resources:\n- "+url+"\n")); err != nil {
		t.Fatal(err)
	}
	_, err = Render(context.Background(), fsys, dir, Options{RemoteTimeout: 500 * time.Millisecond})
	var te *RemoteTimeoutError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a RemoteTimeoutError", err)
	}
	if te.URL != url || !strings.Contains(err.Error(), url) {
		t.Errorf("error does not name the URL %s: %v", url, err)
	}
}

func TestEstimateObjectsCountsDocumentsAndGeneratorsThroughBases(t *testing.T) {
	fsys := memTree(t, smallApp("debug"))
	// base: one Deployment, one ConfigMap and one Secret generator; dev
	// merges into the ConfigMap (counted again: it is an estimate).
	if got := EstimateObjects(fsys, "/repo/envs/dev"); got != 4 {
		t.Errorf("EstimateObjects = %d, want 4", got)
	}
	fsys.WriteFile("/repo/multi/kustomization.yaml", []byte("resources: [all.yaml, ../base, https://example.com/remote]\n"))
	fsys.WriteFile("/repo/multi/all.yaml", []byte("a: 1\n---\nb: 2\n---\nc: 3\n"))
	if got := EstimateObjects(fsys, "/repo/multi"); got != 6 {
		t.Errorf("EstimateObjects = %d, want 6 (three documents, three from the base; remote bases uncounted)", got)
	}
}

func TestSetsOpenAPIFindsTheFieldInAnIncludedBaseAndSurvivesCycles(t *testing.T) {
	files := map[string]string{
		"/t/env/kustomization.yaml":  "resources: [../mid, deploy.yaml]\n",
		"/t/env/deploy.yaml":         "kind: X\n",
		"/t/mid/kustomization.yaml":  "resources: [../base, ../env]\n",
		"/t/base/kustomization.yaml": "resources: []\n",
	}
	if setsOpenAPI(memTree(t, files), "/t/env") {
		t.Error("no kustomization sets openapi, yet setsOpenAPI is true")
	}
	files["/t/base/kustomization.yaml"] = "openapi:\n  path: schema.json\n"
	if !setsOpenAPI(memTree(t, files), "/t/env") {
		t.Error("the base two levels down sets openapi, yet setsOpenAPI is false")
	}
}
