package repo

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParseConfig holds the envctl.yaml decoder to its contract on any
// input: it never panics or runs away, and what it rejects is a
// *ConfigError naming the file, so a user is told where to look.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n  - name: dev\n    path: environments/dev\n"))
	f.Add([]byte("apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n  - {name: prod, path: p, context: c, namespace: n, selector: {a: b}}\nignore:\n  - {kind: Deployment, name: '*', path: /spec/replicas}\n"))
	f.Add([]byte("apiVersion: envctl.dev/v1alpha1\nkind: Config\npolicies:\n  - name: p\n    rules: [image-tag]\n    params: {minReplicas: 3}\nrules:\n  - id: r\n    schema: s.json\ncontracts:\n  - configMap: c\n    schema: x.json\n    keys: [{key: k, schema: y.json}]\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"))
	f.Add([]byte("apiVersion: envctl.dev/v1alpha1\nkind: Config\nenvironments:\n  - name: dev\n    contxt: x\n"))
	// The repository's own envctl.yaml, when there is one.
	if b, err := os.ReadFile(filepath.Join("..", "..", ConfigFile)); err == nil {
		f.Add(b)
	}
	const file = "/repo/envctl.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(file, data)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config and nil error")
			}
			return
		}
		var ce *ConfigError
		if !errors.As(err, &ce) {
			t.Fatalf("error %T %q is not a *ConfigError", err, err)
		}
		if !strings.HasPrefix(err.Error(), file) {
			t.Fatalf("error %q does not start with the file name", err)
		}
	})
}
