// Package gen writes synthetic envctl repositories for benchmarks: a shared
// base and N environment overlays, shaped like real application configs
// (Deployments that read generated ConfigMaps and Secrets, Services,
// ServiceAccounts), so kustomize's name-reference work grows as it does in
// large real repositories.
package gen

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Spec sizes a repository.
type Spec struct {
	Envs    int // environments
	Objects int // rendered objects per environment (rounded to a multiple of 4)
}

// Write creates the repository under dir.
func Write(dir string, s Spec) error {
	apps := s.Objects / 4 // each app renders 4 objects
	var res []string
	var gens strings.Builder
	for i := 0; i < apps; i++ {
		name := fmt.Sprintf("svc-%04d", i)
		file := name + ".yaml"
		res = append(res, file)
		if err := write(filepath.Join(dir, "base", file), app(name)); err != nil {
			return err
		}
		fmt.Fprintf(&gens, "- name: %s-config\n  literals:\n  - LOG_LEVEL=info\n  - SERVICE=%s\n", name, name)
	}
	baseK := "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
	for _, r := range res {
		baseK += "- " + r + "\n"
	}
	baseK += "configMapGenerator:\n" + gens.String()
	baseK += "labels:\n- pairs:\n    app.kubernetes.io/part-of: bench\n"
	if err := write(filepath.Join(dir, "base", "kustomization.yaml"), baseK); err != nil {
		return err
	}
	for e := 0; e < s.Envs; e++ {
		env := fmt.Sprintf("env-%02d", e)
		k := fmt.Sprintf(`apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: %[1]s
resources:
- ../../base
labels:
- pairs:
    envctl.dev/environment: %[1]s
configMapGenerator:
- name: svc-0000-config
  behavior: merge
  literals:
  - LOG_LEVEL=debug
  - ENVIRONMENT=%[1]s
images:
- name: example/app
  newTag: "1.%[2]d.0"
patches:
- target:
    kind: Deployment
  patch: |-
    - op: replace
      path: /spec/replicas
      value: %[3]d
`, env, e, 1+e%3)
		if err := write(filepath.Join(dir, "environments", env, "kustomization.yaml"), k); err != nil {
			return err
		}
	}
	return nil
}

func app(name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: %[1]s
spec:
  replicas: 1
  selector:
    matchLabels:
      app: %[1]s
  template:
    metadata:
      labels:
        app: %[1]s
    spec:
      serviceAccountName: %[1]s
      containers:
      - name: app
        image: example/app:1.0.0
        envFrom:
        - configMapRef:
            name: %[1]s-config
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: %[1]s
spec:
  selector:
    app: %[1]s
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: %[1]s
`, name)
}

func write(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
