// Command validate compares envctl's validation with kubeconform v0.8.0
// judging the same objects with the same schemas (exported by
// k8sschema.ExportKubeconform, strict), and reports both tools' times,
// peak memory and whether their verdicts agree.
//
//	GOBIN=/tmp/kc-bin go install github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0
//	go run ./bench/validate -kubeconform /tmp/kc-bin/kubeconform -n 10000
//
// The corpus is the example repository's rendered environments
// (cmd/envctl/testdata/golden) and k8sschema's valid test objects,
// replicated under new names to -n objects; every tenth object gets one of
// a few typical mistakes (an unknown field, a string where an integer
// belongs, a bad quantity, invalid base64), so both tools must find the
// same invalid objects.
//
// With -crs P (default 10), P% of the objects are instead custom
// resources of the five CRDs with CEL rules in
// internal/validate/testdata/corpus/cel (the CRDs lead the file), valid
// and invalid as the corpus (and the real API server) says. envctl
// checks them against their schemas and CEL rules; kubeconform has no
// schemas for them and skips them (-ignore-missing-schemas), so they are
// left out of the verdict comparison and checked against the corpus
// instead.
//
// Two comparisons, in the same run:
//
//  1. Package k8sschema in process (split, decode, validate), cold (every
//     schema compile included) and warm, against kubeconform as a process.
//  2. The real binaries, as a pipeline runs them: envctl validate -f FILE
//     (built from this tree, run outside any repository so only the
//     Kubernetes schemas apply) against kubeconform -strict -summary with
//     its default workers and with -n 2, each -runs times alternately;
//     the median wall time, objects per second, peak RSS and peak
//     anonymous memory (through bench/internal/peakrss) are printed, then both tools' JSON reports are compared
//     object by object.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/envctl/envctl/bench/internal/tools"
	"github.com/envctl/envctl/internal/k8sschema"
)

func main() {
	n := flag.Int("n", 10000, "objects in the corpus")
	runs := flag.Int("runs", 5, "runs of each binary (the median is reported)")
	version := flag.String("version", k8sschema.Newest(), "Kubernetes version")
	kc := flag.String("kubeconform", "", "kubeconform binary (default: kubeconform on PATH; skipped if none)")
	root := flag.String("repo", ".", "envctl repository root (for the corpus)")
	crs := flag.Int("crs", 10, "percent of the objects that are custom resources with CEL rules")
	keep := flag.Bool("keep", false, "keep the corpus, the exported schemas and the envctl binary (for profiling), and print where")
	flag.Parse()
	if err := run(*n, *runs, *crs, *version, *kc, *root, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench/validate:", err)
		os.Exit(1)
	}
}

type verdicts map[string]bool // "Kind name" → valid

func run(n, runs, crs int, version, kc, root string, keep bool) error {
	tmp, err := os.MkdirTemp("", "envctl-bench-validate")
	if err != nil {
		return err
	}
	if keep {
		fmt.Println("kept in", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}

	corpus, broken, err := buildCorpus(root, version, n)
	if err != nil {
		return err
	}
	corpus, custom, err := addCustomResources(root, corpus, crs)
	if err != nil {
		return err
	}
	input := filepath.Join(tmp, "objects.yaml")
	if err := os.WriteFile(input, corpus, 0o644); err != nil {
		return err
	}
	fmt.Printf("corpus: %d objects (%d with a mistake), %d KiB, Kubernetes %s, strict\n", n, broken, len(corpus)>>10, version)
	if len(custom) > 0 {
		fmt.Printf("  of which %d custom resources of 5 CRDs with CEL rules (%d invalid), and the 5 CRDs\n", len(custom), countInvalid(custom))
	}

	// buildCorpus used the non-strict Set; the strict one is still cold
	// (but for the bundle's decoding, ~10 ms, shared by both).
	for i, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		start := time.Now()
		ours, err := validateEnvctl(corpus, version, workers)
		if err != nil {
			return err
		}
		state := "schemas compiled"
		if i == 0 {
			state = "cold: compiling included"
		}
		fmt.Printf("envctl (k8sschema, %d worker(s), in process, %s): %v, %d invalid\n", workers, state, time.Since(start).Round(time.Millisecond), countInvalid(ours))
	}

	if kc == "" {
		if p, err := exec.LookPath("kubeconform"); err == nil {
			kc = p
		}
	}
	if kc == "" {
		fmt.Println("kubeconform: not found (-kubeconform PATH); comparison skipped")
		return nil
	}
	schemas := filepath.Join(tmp, "schemas")
	if err := k8sschema.ExportKubeconform(schemas, version, true); err != nil {
		return err
	}
	start := time.Now()
	theirs, err := validateKubeconform(kc, schemas, input)
	if err != nil {
		return err
	}
	fmt.Printf("kubeconform v0.8.0 (-strict, exported schemas, process): %v, %d invalid\n", time.Since(start).Round(time.Millisecond), countInvalid(theirs))

	ours, err := validateEnvctl(corpus, version, 1)
	for k := range custom {
		delete(ours, k)
	}
	if err != nil {
		return err
	}
	var disagree []string
	for k, v := range ours {
		if tv, ok := theirs[k]; !ok || tv != v {
			disagree = append(disagree, fmt.Sprintf("%s: envctl valid=%v, kubeconform valid=%v (reported=%v)", k, v, tv, ok))
		}
	}
	sort.Strings(disagree)
	if len(disagree) > 0 {
		return fmt.Errorf("verdicts differ on %d objects:\n%s", len(disagree), strings.Join(disagree, "\n"))
	}
	fmt.Printf("verdicts agree on all %d objects\n", len(ours))

	return compareBinaries(root, tmp, input, schemas, kc, n, runs, custom)
}

// addCustomResources replaces pct% of the corpus's objects (every
// 100/pct-th) with custom resources of the CEL corpus, renamed, and puts
// their CRDs first (in place of as many objects, so the count stays n).
// It returns their expected verdicts.
func addCustomResources(root string, corpus []byte, pct int) ([]byte, verdicts, error) {
	want := verdicts{}
	if pct <= 0 {
		return corpus, want, nil
	}
	files, _ := filepath.Glob(filepath.Join(root, "internal/validate/testdata/corpus/cel/*.yaml"))
	if len(files) == 0 {
		return nil, nil, errors.New("no CEL corpus (run from the repository root or pass -repo)")
	}
	var crds [][]byte
	type cr struct {
		obj   map[string]any
		valid bool
	}
	var crs []cr
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		for _, doc := range splitYAML(data) {
			obj, err := decode(doc)
			if err != nil || obj == nil {
				continue
			}
			if obj["kind"] == "CustomResourceDefinition" {
				crds = append(crds, doc)
				continue
			}
			crs = append(crs, cr{obj, !bytes.Contains(doc, []byte("# expect: invalid"))})
		}
	}
	docs := splitYAML(corpus)
	step := max(100/pct, 1)
	var buf bytes.Buffer
	for _, d := range crds {
		buf.WriteString("---\n")
		buf.Write(d)
		buf.WriteString("\n")
	}
	for i, d := range docs[len(crds):] {
		if i%step != step-1 {
			buf.WriteString("---\n")
			buf.Write(d)
			buf.WriteString("\n")
			continue
		}
		c := crs[(i/step)%len(crs)]
		obj := deepCopy(c.obj).(map[string]any)
		meta := obj["metadata"].(map[string]any)
		meta["name"] = fmt.Sprintf("%v-%d", meta["name"], i)
		want[key(obj)] = c.valid
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, nil, err
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	return buf.Bytes(), want, nil
}

func countInvalid(v verdicts) int {
	n := 0
	for _, ok := range v {
		if !ok {
			n++
		}
	}
	return n
}

// buildCorpus replicates the known-valid objects to n, renaming them, and
// breaks every tenth.
func buildCorpus(root, version string, n int) ([]byte, int, error) {
	files, _ := filepath.Glob(filepath.Join(root, "cmd/envctl/testdata/golden/*.yaml"))
	files = append(files, filepath.Join(root, "internal/k8sschema/testdata/valid.yaml"))
	set, err := k8sschema.Load(version, false)
	if err != nil {
		return nil, 0, err
	}
	var base []map[string]any
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, 0, fmt.Errorf("%v (run from the repository root or pass -repo)", err)
		}
		for _, doc := range splitYAML(data) {
			obj, err := decode(doc)
			if err != nil || obj == nil {
				continue
			}
			if vs, err := set.Validate(obj); err != nil || len(vs) > 0 {
				continue // unknown kinds (CRDs) are not part of the comparison
			}
			base = append(base, obj)
		}
	}
	if len(base) == 0 {
		return nil, 0, errors.New("no objects for the corpus")
	}
	mistakes := []func(map[string]any) bool{
		func(o map[string]any) bool { return setIn(o, []string{"metadata", "labelz"}, map[string]any{"a": "b"}) },
		func(o map[string]any) bool {
			return (o["kind"] == "Deployment" || o["kind"] == "StatefulSet") && setIn(o, []string{"spec", "replicas"}, "3")
		},
		func(o map[string]any) bool {
			return o["kind"] == "Secret" && setIn(o, []string{"data", "broken"}, "not base64!")
		},
		func(o map[string]any) bool {
			return o["kind"] == "Deployment" && setIn(o, []string{"spec", "template", "spec", "containers", "0", "resources", "limits", "cpu"}, "one core")
		},
	}
	var buf bytes.Buffer
	broken := 0
	for i := 0; i < n; i++ {
		obj := deepCopy(base[i%len(base)]).(map[string]any)
		meta, _ := obj["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
			obj["metadata"] = meta
		}
		meta["name"] = fmt.Sprintf("%v-%d", meta["name"], i)
		if i%10 == 9 {
			for j := range mistakes {
				if mistakes[(i/10+j)%len(mistakes)](obj) {
					broken++
					break
				}
			}
		}
		y, err := yaml.Marshal(obj)
		if err != nil {
			return nil, 0, err
		}
		buf.WriteString("---\n")
		buf.Write(y)
	}
	return buf.Bytes(), broken, nil
}

// setIn sets a value at a path of object keys (and numeric array indexes)
// that must exist up to the last element's parent.
func setIn(obj map[string]any, path []string, v any) bool {
	var cur any = obj
	for i, p := range path {
		last := i == len(path)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				c[p] = v
				return true
			}
			next, ok := c[p]
			if !ok {
				if p == "spec" || p == "data" {
					return false
				}
				next = map[string]any{}
				c[p] = next
			}
			cur = next
		case []any:
			var idx int
			if _, err := fmt.Sscanf(p, "%d", &idx); err != nil || idx >= len(c) {
				return false
			}
			if last {
				c[idx] = v
				return true
			}
			cur = c[idx]
		default:
			return false
		}
	}
	return false
}

func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	for _, d := range bytes.Split(append([]byte("\n"), data...), []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			docs = append(docs, d)
		}
	}
	return docs
}

func decode(doc []byte) (map[string]any, error) {
	j, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(j))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return nil, err
	}
	return obj, nil
}

func key(obj map[string]any) string {
	name := ""
	if m, ok := obj["metadata"].(map[string]any); ok {
		name, _ = m["name"].(string)
	}
	return fmt.Sprintf("%v %s", obj["kind"], name)
}

func validateEnvctl(corpus []byte, version string, workers int) (verdicts, error) {
	set, err := k8sschema.Load(version, true)
	if err != nil {
		return nil, err
	}
	docs := splitYAML(corpus)
	out := make(verdicts, len(docs))
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	next := make(chan []byte)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for doc := range next {
				obj, err := decode(doc)
				var vs []k8sschema.Violation
				if err == nil {
					vs, err = set.Validate(obj)
				}
				if errors.Is(err, k8sschema.ErrUnknownKind) {
					continue // custom resources: k8sschema alone has no schemas for them
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if obj != nil {
					out[key(obj)] = len(vs) == 0
				}
				mu.Unlock()
			}
		}()
	}
	for _, d := range docs {
		next <- d
	}
	close(next)
	wg.Wait()
	return out, firstErr
}

func validateKubeconform(kc, schemas, input string) (verdicts, error) {
	loc := filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	cmd := exec.Command(kc, "-strict", "-ignore-missing-schemas", "-verbose", "-output", "json", "-schema-location", loc, input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, err
	}
	var res struct {
		Resources []struct {
			Kind, Name, Status, Msg string
		} `json:"resources"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("kubeconform output: %v\n%s%s", err, stdout.Bytes(), stderr.Bytes())
	}
	out := verdicts{}
	for _, r := range res.Resources {
		switch r.Status {
		case "statusValid":
			out[r.Kind+" "+r.Name] = true
		case "statusInvalid":
			out[r.Kind+" "+r.Name] = false
		case "statusSkipped":
			// custom resources without a schema
		default:
			return nil, fmt.Errorf("kubeconform: %s %s: %s %s", r.Kind, r.Name, r.Status, r.Msg)
		}
	}
	return out, nil
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// A binary run: wall time and peak memory.
type measured struct {
	wall   time.Duration
	peak   tools.Peak
	stdout []byte
}

// execute runs a command in dir; exit code 1 (findings) is success.
func execute(dir string, name string, args ...string) (measured, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	peak, err := tools.Measure(cmd)
	if err != nil {
		return measured{}, err
	}
	start := time.Now()
	err = cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == 1) {
		return measured{}, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.Bytes())
	}
	p, err := peak()
	if err != nil {
		return measured{}, err
	}
	return measured{wall: wall, peak: p, stdout: stdout.Bytes()}, nil
}

func mib(kib int64) float64 { return float64(kib) / 1024 }

func median(ms []measured) measured {
	sort.Slice(ms, func(i, j int) bool { return ms[i].wall < ms[j].wall })
	return ms[len(ms)/2]
}

// compareBinaries times envctl validate -f and kubeconform on the corpus
// file, alternately, and compares their verdicts.
func compareBinaries(root, tmp, input, schemas, kc string, n, runs int, custom verdicts) error {
	envctl := filepath.Join(tmp, "envctl")
	build := exec.Command("go", "build", "-o", envctl, "./cmd/envctl")
	build.Dir, build.Stderr = root, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("building envctl: %w", err)
	}
	// Outside any repository: no envctl.yaml, so only the schemas apply.
	cwd := filepath.Join(tmp, "cwd")
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return err
	}
	loc := filepath.Join(schemas, "{{ .ResourceKind }}{{ .KindSuffix }}.json")
	cmds := []struct {
		name string
		bin  string
		args []string
	}{
		{"envctl validate -f FILE", envctl, []string{"validate", "-f", input}},
		{"kubeconform -strict -summary (-n 4, its default)", kc, []string{"-strict", "-ignore-missing-schemas", "-summary", "-schema-location", loc, input}},
		{"kubeconform -strict -summary -n 2", kc, []string{"-strict", "-ignore-missing-schemas", "-summary", "-n", "2", "-schema-location", loc, input}},
	}
	var base []measured
	for _, c := range [][]string{{envctl, "version"}, {kc, "-v"}} {
		m, err := execute(cwd, c[0], c[1:]...)
		if err != nil {
			return err
		}
		base = append(base, m)
	}
	results := make([][]measured, len(cmds))
	for r := 0; r < runs; r++ {
		for i, t := range cmds {
			m, err := execute(cwd, t.bin, t.args...)
			if err != nil {
				return err
			}
			results[i] = append(results[i], m)
		}
	}
	fmt.Printf("\nbinaries on %s (%d objects, %d cores), median of %d runs each, alternating:\n", filepath.Base(input), n, runtime.NumCPU(), runs)
	med := make([]measured, len(cmds))
	for i, t := range cmds {
		med[i] = median(results[i])
		fmt.Printf("  %-50s %8v  %7.0f objects/s  peak RSS %6.1f MiB  peak anon %6.1f MiB\n", t.name, med[i].wall.Round(time.Millisecond), float64(n)/med[i].wall.Seconds(), mib(med[i].peak.RSS), mib(med[i].peak.Anon))
	}
	for i := 1; i < len(cmds); i++ {
		fmt.Printf("  envctl / %s: throughput %.2fx, peak RSS %.2fx, peak anon %.2fx\n", cmds[i].name, med[i].wall.Seconds()/med[0].wall.Seconds(),
			float64(med[0].peak.RSS)/float64(med[i].peak.RSS), float64(med[0].peak.Anon)/float64(med[i].peak.Anon))
	}
	fmt.Printf("  (peak RSS counts the executables' mapped pages: %.1f MiB for envctl version, %.1f MiB for kubeconform -v; measured through peakrss, floor %.1f MiB)\n",
		mib(base[0].peak.RSS), mib(base[1].peak.RSS), mib(base[0].peak.Floor))

	// Verdicts, object by object, from both cmds' JSON reports.
	ej, err := execute(cwd, envctl, "validate", "-f", input, "-o", "json")
	if err != nil {
		return err
	}
	var er struct {
		Results []struct {
			Object struct{ Kind, Name string } `json:"object"`
			Status string                      `json:"status"`
		} `json:"results"`
	}
	if err := json.Unmarshal(ej.stdout, &er); err != nil {
		return fmt.Errorf("envctl -o json: %v", err)
	}
	ours := verdicts{}
	for _, r := range er.Results {
		switch r.Status {
		case "valid", "invalid":
			ours[r.Object.Kind+" "+r.Object.Name] = r.Status == "valid"
		default:
			return fmt.Errorf("envctl: %s %s: %s", r.Object.Kind, r.Object.Name, r.Status)
		}
	}
	theirs, err := validateKubeconform(kc, schemas, input)
	if err != nil {
		return err
	}
	var disagree []string
	for k, want := range custom {
		if got, ok := ours[k]; !ok || got != want {
			disagree = append(disagree, fmt.Sprintf("%s: envctl valid=%v, the CEL corpus (the API server) valid=%v", k, got, want))
		}
		delete(ours, k)
	}
	for k, v := range ours {
		if tv, ok := theirs[k]; !ok || tv != v {
			disagree = append(disagree, fmt.Sprintf("%s: envctl valid=%v, kubeconform valid=%v (reported=%v)", k, v, tv, ok))
		}
	}
	sort.Strings(disagree)
	if len(custom) > 0 && len(disagree) == 0 {
		fmt.Printf("  envctl's verdicts on the %d custom resources are the CEL corpus's (the API server's); kubeconform skipped them\n", len(custom))
	}
	if len(disagree) > 0 || len(ours) != len(theirs) {
		return fmt.Errorf("binaries: verdicts differ on %d objects (envctl judged %d, kubeconform %d):\n%s", len(disagree), len(ours), len(theirs), strings.Join(disagree, "\n"))
	}
	fmt.Printf("  verdicts identical on all %d objects (%d invalid)\n", len(ours), countInvalid(ours))
	return nil
}
