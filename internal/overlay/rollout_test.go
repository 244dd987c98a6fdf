package overlay

import (
	"context"
	"github.com/envctl/envctl/internal/secrets"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/kio"
)

// exampleFS loads the repository's example (base, components,
// environments) into memory so tests can edit it freely.
func exampleFS(t *testing.T) filesys.FileSystem {
	t.Helper()
	mem := filesys.MakeFsInMemory()
	for _, top := range []string{"base", "components", "environments"} {
		err := filepath.WalkDir(filepath.Join("..", "..", top), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			return mem.WriteFile(filepath.Join("/repo", rel), b)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return mem
}

var hashSuffix = regexp.MustCompile(`^(.*)-[a-z0-9]{10}$`)

// objects maps "Kind/base-name" to the object's YAML and to its full name.
func objects(t *testing.T, stream []byte) (docs map[string]string, names map[string]string) {
	t.Helper()
	nodes, err := (&kio.ByteReader{Reader: strings.NewReader(string(stream)), OmitReaderAnnotations: true}).Read()
	if err != nil {
		t.Fatal(err)
	}
	docs, names = map[string]string{}, map[string]string{}
	for _, n := range nodes {
		name := n.GetName()
		base := name
		if (n.GetKind() == "ConfigMap" || n.GetKind() == "Secret") && hashSuffix.MatchString(name) {
			base = hashSuffix.FindStringSubmatch(name)[1]
		}
		key := n.GetKind() + "/" + base
		docs[key] = n.MustString()
		names[key] = name
	}
	return docs, names
}

func renderEnv(t *testing.T, fsys filesys.FileSystem, env string) []byte {
	t.Helper()
	r, err := Render(context.Background(), fsys, "/repo/environments/"+env, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r.YAML
}

// TestOneValueChangeRollsExactlyTheWorkloadsThatUseIt edits one value in
// one environment of the example and checks that exactly the generated
// object is renamed, exactly the workloads that reference it change, that
// they change only by the new name, and that other environments are untouched.
func TestOneValueChangeRollsExactlyTheWorkloadsThatUseIt(t *testing.T) {
	tests := []struct {
		name, file, from, to string
		renamed              string
		rolled               []string
	}{
		{
			name: "a ConfigMap value", file: "environments/staging/config/app.env",
			from: "WORKER_CONCURRENCY=4", to: "WORKER_CONCURRENCY=6",
			renamed: "ConfigMap/app-config",
			rolled:  []string{"CronJob/db-backup", "Deployment/api", "Deployment/worker"},
		},
		{
			name: "a Secret value", file: "environments/staging/secrets/db.env",
			from: "POSTGRES_PASSWORD=", to: "POSTGRES_PASSWORD=rotated-",
			renamed: "Secret/db-credentials",
			rolled:  []string{"CronJob/db-backup", "Deployment/api", "Deployment/worker", "StatefulSet/postgres"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := exampleFS(t)
			decryptInPlace(t, fsys, filepath.Join("/repo", tt.file))
			before := map[string][]byte{}
			for _, env := range []string{"dev", "staging", "prod"} {
				before[env] = renderEnv(t, fsys, env)
			}
			path := filepath.Join("/repo", tt.file)
			b, err := fsys.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tt.from) {
				t.Fatalf("%s does not contain %q", tt.file, tt.from)
			}
			if err := fsys.WriteFile(path, []byte(strings.Replace(string(b), tt.from, tt.to, 1))); err != nil {
				t.Fatal(err)
			}
			for _, env := range []string{"dev", "prod"} {
				if string(renderEnv(t, fsys, env)) != string(before[env]) {
					t.Errorf("editing staging changed %s", env)
				}
			}
			oldDocs, oldNames := objects(t, before["staging"])
			newDocs, newNames := objects(t, renderEnv(t, fsys, "staging"))
			if oldNames[tt.renamed] == newNames[tt.renamed] {
				t.Fatalf("%s kept its name %s", tt.renamed, oldNames[tt.renamed])
			}
			var changed []string
			for key, doc := range newDocs {
				if key == tt.renamed {
					continue
				}
				if oldDocs[key] != doc {
					changed = append(changed, key)
					// The only difference is the reference to the new name.
					if strings.ReplaceAll(oldDocs[key], oldNames[tt.renamed], newNames[tt.renamed]) != doc {
						t.Errorf("%s changed by more than the renamed reference", key)
					}
				}
			}
			sort.Strings(changed)
			if strings.Join(changed, ",") != strings.Join(tt.rolled, ",") {
				t.Errorf("changed workloads = %v, want %v", changed, tt.rolled)
			}
			if len(newDocs) != len(oldDocs) {
				t.Errorf("object count changed: %d -> %d", len(oldDocs), len(newDocs))
			}
		})
	}
}

// decryptInPlace replaces a SOPS file of the in-memory example with its
// plaintext (which renders the same bytes), so that a test can edit a
// value; a plaintext file is left alone.
func decryptInPlace(t *testing.T, fsys filesys.FileSystem, path string) {
	t.Helper()
	b, err := fsys.ReadFile(path)
	if err != nil || !secrets.IsEncrypted(path, b) {
		return
	}
	plain, err := secrets.Plaintext(path, b)
	if err != nil {
		t.Fatal(err)
	}
	if err := fsys.WriteFile(path, plain); err != nil {
		t.Fatal(err)
	}
}
