// Command export writes envctl's built-in Kubernetes schemas in the file
// layout kubeconform reads, so that kubeconform judges objects with the
// same schemas as `envctl validate` (for comparisons between the two).
//
//	go run ./hack/kubeconform -o /tmp/schemas -version 1.34 -strict
//	kubeconform -schema-location '/tmp/schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json' obj.yaml
//
//	go run ./hack/kubeconform -o /tmp/schemas -all
//	kubeconform -schema-location /tmp/schemas -kubernetes-version 1.34.4 -strict obj.yaml
//
// With -all, every version is written in both modes under
// DIR/vRELEASE-standalone/ and DIR/vRELEASE-standalone-strict/ (RELEASE
// being the exact release the schemas come from, e.g. 1.34.4:
// kubeconform's -kubernetes-version takes only x.y.z), the layout
// kubeconform's default template expects
// ("{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}"),
// so that its -strict flag picks the closed schemas. Note that
// kubeconform's -strict does not close schemas itself: with an explicit
// file template that lacks {{ .StrictSuffix }} it only rejects duplicate
// YAML keys, so export with -strict for a strict comparison.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/envctl/envctl/internal/k8sschema"
)

func main() {
	out := flag.String("o", "", "output directory (required)")
	version := flag.String("version", k8sschema.Newest(), "Kubernetes version")
	strict := flag.Bool("strict", false, "reject unknown fields (additionalProperties: false)")
	all := flag.Bool("all", false, "write every version, strict and not, in kubeconform's default directory layout")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*out, *version, *strict, *all); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}

func run(out, version string, strict, all bool) error {
	if !all {
		return k8sschema.ExportKubeconform(out, version, strict)
	}
	for _, v := range k8sschema.Versions() {
		set, err := k8sschema.Load(v, false)
		if err != nil {
			return err
		}
		for _, s := range []bool{false, true} {
			dir := set.KubernetesRelease() + "-standalone"
			if s {
				dir += "-strict"
			}
			if err := k8sschema.ExportKubeconform(filepath.Join(out, dir), v, s); err != nil {
				return err
			}
			fmt.Println(filepath.Join(out, dir))
		}
	}
	return nil
}
