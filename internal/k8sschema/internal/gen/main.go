// Command gen writes the embedded Kubernetes schema bundles of package
// k8sschema: for each pinned Kubernetes release it reads the OpenAPI v3
// documents the kubernetes repository keeps in api/openapi-spec/v3 (from
// the k8s.io/kubernetes module source, fetched with `go mod download`),
// translates their schemas to JSON Schema (package translate), and writes
// data/v1.MINOR.json.gz.
//
// Run it with `go generate ./internal/k8sschema`. To move to newer patch
// releases or add a minor, edit bundle.Releases (and remove the data file
// of a minor that leaves the list); `go run ./internal/k8sschema/internal/gen
// -check` lists the newest patch of each minor that the module proxy has.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/envctl/envctl/internal/k8sschema/internal/bundle"
	"github.com/envctl/envctl/internal/k8sschema/translate"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("k8sschema/gen: ")
	out := flag.String("o", "data", "output directory")
	check := flag.Bool("check", false, "only report whether newer patch releases exist")
	list := flag.String("releases", strings.Join(bundle.Releases, ","), "comma-separated k8s.io/kubernetes versions to generate bundles for")
	flag.Parse()
	releases := strings.Split(*list, ",")

	if *check {
		if err := checkLatest(releases); err != nil {
			log.Fatal(err)
		}
		return
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, rel := range releases {
		dir, err := moduleDir(rel)
		if err != nil {
			log.Fatal(err)
		}
		b, err := build(rel, filepath.Join(dir, "api", "openapi-spec", "v3"))
		if err != nil {
			log.Fatalf("%s: %v", rel, err)
		}
		if err := verify(b); err != nil {
			log.Fatalf("%s: %v", rel, err)
		}
		var buf bytes.Buffer
		if err := bundle.Encode(&buf, b); err != nil {
			log.Fatal(err)
		}
		name := filepath.Join(*out, minor(rel)+".json.gz")
		if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: %s: %d kinds, %d definitions, %d bytes", rel, name, len(b.Kinds), len(b.Defs), buf.Len())
	}
}

// minor turns "v1.34.4" into "v1.34".
func minor(rel string) string {
	parts := strings.SplitN(rel, ".", 3)
	return parts[0] + "." + parts[1]
}

// goCmd runs the go command outside any module, so that it never touches
// the main module's go.mod or go.sum.
func goCmd(args ...string) ([]byte, error) {
	tmp, err := os.MkdirTemp("", "k8sschema-gen")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", args...)
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GO111MODULE=on", "GOWORK=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

func moduleDir(rel string) (string, error) {
	out, err := goCmd("mod", "download", "-json", "k8s.io/kubernetes@"+rel)
	if err != nil {
		return "", err
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(out, &info); err != nil {
		return "", err
	}
	if info.Error != "" {
		return "", fmt.Errorf("k8s.io/kubernetes@%s: %s", rel, info.Error)
	}
	return info.Dir, nil
}

func checkLatest(releases []string) error {
	out, err := goCmd("list", "-m", "-versions", "k8s.io/kubernetes")
	if err != nil {
		return err
	}
	avail := strings.Fields(string(out))
	for _, rel := range releases {
		newest := rel
		for _, v := range avail {
			if strings.HasPrefix(v, minor(rel)+".") && patch(v) > patch(newest) {
				newest = v
			}
		}
		if newest != rel {
			fmt.Printf("%s: %s is pinned, %s is available\n", minor(rel), rel, newest)
		} else {
			fmt.Printf("%s: %s is the newest patch release\n", minor(rel), rel)
		}
	}
	return nil
}

func patch(v string) int {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 3 || strings.ContainsAny(parts[2], "-+") {
		return -1 // pre-releases never win
	}
	n := 0
	fmt.Sscanf(parts[2], "%d", &n)
	return n
}

type gvk struct{ group, version, kind string }

type openAPIDoc struct {
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		Schemas map[string]map[string]any `json:"schemas"`
	} `json:"components"`
}

func build(rel, specDir string) (*bundle.Bundle, error) {
	files, err := filepath.Glob(filepath.Join(specDir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no OpenAPI v3 documents in %s", specDir)
	}
	sort.Strings(files)

	raw := map[string]map[string]any{} // definition name → OpenAPI schema
	rawJSON := map[string]string{}     // to check that documents agree
	namespaced := map[gvk]bool{}
	clusterScoped := map[gvk]bool{}
	resources := map[gvk]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var doc openAPIDoc
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return nil, fmt.Errorf("%s: %v", f, err)
		}
		for name, s := range doc.Components.Schemas {
			// From 1.36 on, each document lists in a shared meta/v1
			// definition (WatchEvent, DeleteOptions) only the
			// group/versions it serves: the definitions are compared
			// without that list, and the lists are merged.
			gvks, _ := s["x-kubernetes-group-version-kind"].([]any)
			rest := maps.Clone(s)
			delete(rest, "x-kubernetes-group-version-kind")
			j, _ := json.Marshal(rest)
			if prev, ok := rawJSON[name]; ok {
				if prev != string(j) {
					return nil, fmt.Errorf("definition %s differs between documents (%s)", name, filepath.Base(f))
				}
				gvks = mergeGVKs(raw[name]["x-kubernetes-group-version-kind"], gvks)
			}
			rawJSON[name] = string(j)
			if gvks != nil {
				rest["x-kubernetes-group-version-kind"] = gvks
			}
			raw[name] = rest
		}
		for path, item := range doc.Paths {
			for method, opJSON := range item {
				if method == "parameters" {
					continue
				}
				var op struct {
					GVK    *struct{ Group, Version, Kind string } `json:"x-kubernetes-group-version-kind"`
					Action string                                 `json:"x-kubernetes-action"`
				}
				if err := json.Unmarshal(opJSON, &op); err != nil || op.GVK == nil {
					continue
				}
				k := gvk{op.GVK.Group, op.GVK.Version, op.GVK.Kind}
				if r, ok := resourceOf(path); ok {
					if prev, dup := resources[k]; dup && prev != r {
						return nil, fmt.Errorf("%s/%s %s is served as both %s and %s", k.group, k.version, k.kind, prev, r)
					}
					resources[k] = r
				}
				switch {
				case strings.Contains(path, "/namespaces/{namespace}/"):
					namespaced[k] = true
				case strings.Contains(path, "/watch/"):
				case op.Action == "list" || op.Action == "deletecollection" || op.Action == "watchlist":
					// Lists across all namespaces exist for namespaced
					// kinds too.
				default:
					clusterScoped[k] = true
				}
			}
		}
	}

	// The kinds: definitions that carry x-kubernetes-group-version-kind.
	kinds := map[gvk]string{}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		list, _ := raw[name]["x-kubernetes-group-version-kind"].([]any)
		for _, e := range list {
			m, _ := e.(map[string]any)
			g, _ := m["group"].(string)
			v, _ := m["version"].(string)
			k, _ := m["kind"].(string)
			if v == "" || k == "" {
				return nil, fmt.Errorf("%s: malformed x-kubernetes-group-version-kind %v", name, e)
			}
			key := gvk{g, v, k}
			if prev, ok := kinds[key]; ok && prev != name {
				return nil, fmt.Errorf("%s/%s %s is claimed by %s and %s", g, v, k, prev, name)
			}
			kinds[key] = name
		}
	}
	for k := range namespaced {
		if clusterScoped[k] {
			log.Printf("%s: %s/%s %s has both namespaced and cluster-scoped paths; treating it as namespaced", rel, k.group, k.version, k.kind)
		}
	}

	// Pass 1 finds the small leaf definitions (Time, Quantity,
	// IntOrString, ...) that are inlined where they are used.
	var t translate.Translator
	defs := map[string]map[string]any{}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		s, err := t.Definition(name, raw[name])
		if err != nil {
			return nil, fmt.Errorf("definition %s: %v", name, err)
		}
		defs[name] = s
	}
	kindDefs := map[string]bool{}
	for _, name := range kinds {
		kindDefs[name] = true
	}
	t.Inline = map[string]map[string]any{}
	for name, s := range defs {
		if kindDefs[name] || !isLeaf(s) {
			continue
		}
		if j, _ := json.Marshal(s); len(j) > 512 {
			continue
		}
		t.Inline[name] = s
	}
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		if _, ok := t.Inline[name]; ok {
			continue
		}
		s, err := t.Definition(name, raw[name])
		if err != nil {
			return nil, fmt.Errorf("definition %s: %v", name, err)
		}
		defs[name] = s
	}

	// Keep the definitions the kinds reach.
	keep := map[string]bool{}
	var reach func(name string) error
	reach = func(name string) error {
		if keep[name] {
			return nil
		}
		s, ok := defs[name]
		if !ok {
			return fmt.Errorf("reference to undefined definition %s", name)
		}
		keep[name] = true
		for _, r := range translate.Refs(s) {
			if err := reach(strings.TrimPrefix(r, translate.DefsRefPrefix)); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		return nil
	}
	// Every definition in meta/v1 (DeleteOptions, WatchEvent, ...) lists
	// every group/version, including ones that serve no resources in this
	// release (admission.k8s.io, removed betas); keep only group/versions
	// that have a resource.
	served := map[[2]string]bool{}
	for k := range namespaced {
		served[[2]string{k.group, k.version}] = true
	}
	for k := range clusterScoped {
		served[[2]string{k.group, k.version}] = true
	}
	b := &bundle.Bundle{Kubernetes: rel, Defs: map[string]any{}}
	for k, name := range kinds {
		if !served[[2]string{k.group, k.version}] {
			continue
		}
		if err := reach(name); err != nil {
			return nil, err
		}
		kind := bundle.Kind{Group: k.group, Version: k.version, Kind: k.kind, Def: name, Resource: resources[k]}
		switch {
		case namespaced[k]:
			kind.Namespaced = ptr(true)
		case clusterScoped[k]:
			kind.Namespaced = ptr(false)
		}
		b.Kinds = append(b.Kinds, kind)
	}
	slices.SortFunc(b.Kinds, func(a, b bundle.Kind) int {
		return strings.Compare(a.Group+"\x00"+a.Version+"\x00"+a.Kind, b.Group+"\x00"+b.Version+"\x00"+b.Kind)
	})
	for name := range keep {
		b.Defs[name] = defs[name]
	}
	return b, nil
}

// mergeGVKs returns the x-kubernetes-group-version-kind list a, with
// the entries of b that it lacks appended.
func mergeGVKs(a any, b []any) []any {
	out, _ := a.([]any)
	out = slices.Clone(out)
	seen := map[string]bool{}
	for _, e := range out {
		j, _ := json.Marshal(e)
		seen[string(j)] = true
	}
	for _, e := range b {
		if j, _ := json.Marshal(e); !seen[string(j)] {
			seen[string(j)] = true
			out = append(out, e)
		}
	}
	return out
}

// isLeaf reports whether a translated schema has no references and no
// subschemas that describe structure: a scalar or a free-form value.
func isLeaf(s map[string]any) bool {
	if len(translate.Refs(s)) > 0 {
		return false
	}
	for _, k := range []string{"properties", "items", "prefixItems", "additionalProperties", "patternProperties"} {
		if _, ok := s[k]; ok {
			return false
		}
	}
	return true
}

// verify compiles every kind's schema, closed and open, with the validator
// envctl uses, so that a definition it rejects (or a pattern Go's regexp
// cannot compile) fails generation rather than a user's validate run.
func verify(b *bundle.Bundle) error {
	for _, strict := range []bool{false, true} {
		var root any = map[string]any{
			"$schema": "https://json-schema.org/draft/2020-12/schema",
			"$defs":   b.Defs,
		}
		if strict {
			root = translate.Close(root)
		}
		j, err := json.Marshal(root)
		if err != nil {
			return err
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		for name, f := range translate.Formats {
			c.Formats[name] = f
		}
		const url = "https://envctl.invalid/k8s.json"
		if err := c.AddResource(url, bytes.NewReader(j)); err != nil {
			return err
		}
		for _, k := range b.Kinds {
			if _, err := c.Compile(url + "#/$defs/" + k.Def); err != nil {
				return fmt.Errorf("compiling %s %s (strict=%v): %v", k.APIVersion(), k.Kind, strict, err)
			}
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

// resourceOf returns the resource a path serves, for paths of a
// collection or one object ("/apis/apps/v1/namespaces/{namespace}/deployments/{name}"
// serves "deployments"); subresource paths ("/status", "/scale") and
// watches carry the parent's kind too, so they say nothing.
func resourceOf(path string) (string, bool) {
	var rest string
	switch {
	case strings.HasPrefix(path, "/api/"):
		_, rest, _ = strings.Cut(strings.TrimPrefix(path, "/api/"), "/") // version
	case strings.HasPrefix(path, "/apis/"):
		parts := strings.SplitN(strings.TrimPrefix(path, "/apis/"), "/", 3) // group, version, rest
		if len(parts) < 3 {
			return "", false
		}
		rest = parts[2]
	default:
		return "", false
	}
	if strings.HasPrefix(rest, "watch/") {
		return "", false
	}
	rest = strings.TrimPrefix(rest, "namespaces/{namespace}/")
	segs := strings.Split(rest, "/")
	switch {
	case len(segs) == 1 && segs[0] != "" && !strings.HasPrefix(segs[0], "{"):
		return segs[0], true
	case len(segs) == 2 && segs[1] == "{name}":
		return segs[0], true
	}
	return "", false
}
