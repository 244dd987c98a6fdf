package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	yaml3 "go.yaml.in/yaml/v3"

	"github.com/envctl/envctl/internal/k8sschema"
)

// Options are the knobs of a validation run.
type Options struct {
	// KubernetesVersion selects the Kubernetes schemas ("1.34"); empty
	// means the newest embedded.
	KubernetesVersion string
	// Strict rejects fields the schemas do not list, and duplicate keys,
	// as the API server's strict field validation does.
	Strict bool
	// SkipKinds lists kinds ("Deployment") or group/version/kinds
	// ("apps/v1/Deployment", "v1/ConfigMap") that are skipped.
	SkipKinds []string
	// SkipUnknown skips objects whose kind has no schema instead of
	// reporting an error.
	SkipUnknown bool
	// Jobs bounds the objects decoded and validated at once; 0 means
	// GOMAXPROCS.
	Jobs int
}

// Input is one environment's objects, or the files given with -f.
type Input struct {
	// Env names the environment: its contracts and policies apply. ""
	// applies only the schema checks.
	Env string
	// KubernetesVersion selects the Kubernetes schemas of this input (its
	// cluster's version, from envctl.yaml); "" means Options'.
	KubernetesVersion string
	// Streams are multi-document YAML streams.
	Streams []Stream
	// Origins, if set, maps rendered objects to the files that define
	// them (the CLI passes overlay.Origins, which renders again). It is
	// called only when the input has findings.
	Origins func(ctx context.Context) (map[Object]Origin, error)
	// Server, if set, sends the input's objects to the API server as a
	// server-side dry run (the CLI's --dry-run=server) and returns what it
	// refused; an error stops the run.
	Server func(ctx context.Context) ([]ServerRefusal, error)

	unmap []func() error // of the files ReadFiles mapped
}

// ServerRefusal is what the API server refused of an object in a
// server-side dry run.
type ServerRefusal struct {
	Object Object
	// Field is the API server's field path ("spec.replicas"); "" for the
	// whole object.
	Field, Message string
}

// Stream is a YAML stream: a rendered environment or a file.
type Stream struct {
	// Name is the file name as given ("-" for stdin), or "" for a
	// rendered environment.
	Name string
	Data []byte
}

// Origin is where a rendered object is defined.
type Origin struct {
	Source Source
	// Doc is the object's document in Source.File, for the lines of its
	// fields; nil when only the object's line is known.
	Doc *yaml3.Node
}

// Validator validates objects. It is safe for concurrent use.
type Validator struct {
	opts   Options
	kube   *kubeSchemas // Options.KubernetesVersion's
	checks *Checks
	skip   map[string]bool

	mu     sync.Mutex
	byVers map[string]*kubeSchemas // by minor version, loaded on first use
}

// kubeSchemas are the schemas of one Kubernetes version.
type kubeSchemas struct {
	set *k8sschema.Set
	// apiVersions maps a kind to the apiVersions Kubernetes has it in,
	// for the message about an apiVersion that does not exist.
	apiVersions map[string][]string
}

// kubeFor returns the schemas of a Kubernetes version ("" for the
// default).
func (v *Validator) kubeFor(version string) (*kubeSchemas, error) {
	if version == "" {
		return v.kube, nil
	}
	minor, _, err := k8sschema.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.byVers[minor]; ok {
		return k, nil
	}
	set, err := k8sschema.Load(minor, v.opts.Strict)
	if err != nil {
		return nil, err
	}
	k := &kubeSchemas{set: set, apiVersions: map[string][]string{}}
	for _, kk := range set.Kinds() {
		k.apiVersions[kk.Kind] = append(k.apiVersions[kk.Kind], kk.APIVersion)
	}
	v.byVers[minor] = k
	return k, nil
}

// New returns a Validator for the options and the repository's checks
// (nil for none). An unknown Kubernetes version is an error that lists
// the available ones.
func New(opts Options, checks *Checks) (*Validator, error) {
	if opts.KubernetesVersion == "" {
		opts.KubernetesVersion = k8sschema.Newest()
	}
	if checks == nil {
		checks = &Checks{}
	}
	if checks.strict != opts.Strict && checks.loaded {
		return nil, errors.New("validate: checks were loaded with a different strictness")
	}
	v := &Validator{opts: opts, checks: checks, skip: map[string]bool{}, byVers: map[string]*kubeSchemas{}}
	kube, err := v.kubeFor(opts.KubernetesVersion)
	if err != nil {
		return nil, err
	}
	v.kube = kube
	for _, k := range opts.SkipKinds {
		if k = strings.TrimSpace(k); k != "" {
			v.skip[k] = true
		}
	}
	return v, nil
}

// KubernetesVersion returns the Kubernetes minor version the schemas are
// for.
func (v *Validator) KubernetesVersion() string { return v.kube.set.Version() }

// item is one document on its way through validation.
type item struct {
	input, stream, index int
	doc                  document
	decoded              bool
	prefix               string // the item's pointer in its document (List items)
	obj                  map[string]any
	decodeErr            error
	dups                 bool
	id                   Object
	result               *Result
	// crd and crdErr are a CustomResourceDefinition's compiled schemas,
	// compiled in parallel with the other CRDs before any object is
	// checked.
	crd    crdSchemas
	crdErr error
}

func isCRD(o Object) bool {
	return o.Kind == "CustomResourceDefinition" && strings.HasPrefix(o.APIVersion, "apiextensions.k8s.io/")
}

// Validate decodes and validates every object of the inputs. Objects are
// handled in parallel; the report lists them in input order. The error is
// for problems that stop the run (an environment's CRD that does not
// compile); problems with single objects are Results.
func (v *Validator) Validate(ctx context.Context, inputs []Input) (*Report, error) {
	jobs := v.opts.Jobs
	if jobs <= 0 {
		jobs = runtime.GOMAXPROCS(0)
	}
	var items []*item
	for i, in := range inputs {
		n := 0
		for s, st := range in.Streams {
			for _, d := range splitDocuments(st.Data) {
				it := &item{input: i, stream: s, index: n, doc: d}
				n++
				if kind, ok := topLevelKind(d.Data); ok && !strings.EqualFold(kind, "List") {
					items = append(items, it)
					continue
				}
				// A List (kubectl get -o yaml) is checked item by item,
				// as kubectl apply and kubeconform take it.
				list := listItems(it, v.opts.Strict)
				n += len(list)
				items = append(items, list...)
			}
		}
	}

	// Objects that other objects' checks look at (CRDs, and the HPAs and
	// PDBs of the policies) are decoded first; every other object is
	// decoded, checked and dropped in one step, so memory holds the input
	// and the results, not every decoded object.
	kept := v.keptKinds(inputs)
	decode := func(it *item) {
		it.decoded = true
		it.obj, it.decodeErr = decodeObject(it.doc.Data, v.opts.Strict)
		if errors.Is(it.decodeErr, errDuplicateKeys) {
			it.dups, it.decodeErr = true, nil
		}
		it.id = identify(it.obj)
	}
	if err := parallel(ctx, jobs, 16, items, func(it *item) {
		if it.decoded {
			return
		}
		if kind, ok := topLevelKind(it.doc.Data); !ok || kept[kind] {
			decode(it)
		}
	}); err != nil {
		return nil, err
	}
	// CRDs compile one per task: they often lead a stream, and in one
	// batch they would compile one after another on one worker.
	var crds []*item
	for _, it := range items {
		if it.obj != nil && isCRD(it.id) {
			crds = append(crds, it)
		}
	}
	if err := parallel(ctx, jobs, 1, crds, func(it *item) {
		it.crd, it.crdErr = compileCRD(it.obj, v.opts.Strict, v.where(inputs, it))
	}); err != nil {
		return nil, err
	}
	envs := make([]*envState, len(inputs))
	for i, in := range inputs {
		kube, err := v.kubeFor(in.KubernetesVersion)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", in.Env, err)
		}
		envs[i] = &envState{name: in.Env, kube: kube, crds: crdSchemas{}, byKind: map[string][]*item{}}
	}
	for _, it := range items {
		if it.obj == nil || !kept[it.id.Kind] {
			continue
		}
		e := envs[it.input]
		e.byKind[it.id.Kind] = append(e.byKind[it.id.Kind], it)
		if isCRD(it.id) {
			if it.crdErr != nil {
				return nil, it.crdErr
			}
			maps.Copy(e.crds, it.crd)
			it.crd = nil
		}
	}
	for _, e := range envs {
		e.policies = v.checks.policiesFor(e.name)
		e.contracts = v.checks.contractsFor(e.name)
		e.matched = make([]atomic.Bool, len(e.contracts))
	}

	if err := parallel(ctx, jobs, 16, items, func(it *item) {
		if !it.decoded {
			decode(it)
		}
		if it.obj == nil && it.decodeErr == nil {
			return // an empty document
		}
		r := v.check(ctx, it, envs[it.input])
		r.Env, r.input, r.index = inputs[it.input].Env, it.input, it.index
		if name := inputs[it.input].Streams[it.stream].Name; name != "" {
			locateInFile(name, it, &r)
		}
		it.result = &r
		if !kept[it.id.Kind] {
			it.obj = nil
		}
	}); err != nil {
		return nil, err
	}

	counts := make([]int, len(inputs))
	for _, it := range items {
		if it.result != nil {
			counts[it.input]++
		}
	}
	rep := &Report{KubernetesVersion: v.kube.set.Version(), Strict: v.opts.Strict, Rules: map[string]string{}}
	for i, in := range inputs {
		if in.Env != "" && !slices.Contains(rep.Envs, in.Env) {
			rep.Envs = append(rep.Envs, in.Env)
		}
		if ver := envs[i].kube.set.Version(); ver != rep.KubernetesVersion && in.Env != "" {
			if rep.EnvVersions == nil {
				rep.EnvVersions = map[string]string{}
			}
			rep.EnvVersions[in.Env] = ver
		}
		results := make([]Result, 0, counts[i]+len(envs[i].contracts))
		for _, it := range items {
			if it.input == i && it.result != nil {
				results = append(results, *it.result)
			}
		}
		results = append(results, envs[i].missingContracts()...)
		for j := range results {
			results[j].input, results[j].Env = i, in.Env
		}
		if in.Server != nil {
			refusals, err := in.Server(ctx)
			if err != nil {
				return nil, err
			}
			addRefusals(results, refusals)
		}
		if err := v.locate(ctx, i, in, items, results); err != nil {
			// The findings stand without their files.
			rep.Warnings = append(rep.Warnings, err.Error())
		}
		rep.Results = append(rep.Results, results...)
	}
	var envNames []string
	for _, in := range inputs {
		envNames = append(envNames, in.Env)
	}
	for id, desc := range v.checks.ruleDescriptions(rep, envNames) {
		rep.Rules[id] = desc
	}
	return rep, nil
}

// keptKinds are decoded before the other objects and kept: the checks of
// other objects look at them. CRDs always; the HPAs and PDBs only when a
// policy applies (they are what its checks of workloads read), so that
// validating a large stream without policies does not hold them all.
func (v *Validator) keptKinds(inputs []Input) map[string]bool {
	kept := map[string]bool{"CustomResourceDefinition": true}
	for _, in := range inputs {
		if len(v.checks.policiesFor(in.Env)) > 0 {
			kept["HorizontalPodAutoscaler"], kept["PodDisruptionBudget"] = true, true
		}
	}
	return kept
}

// topLevelKind finds a document's kind from its top-level "kind:" line
// without decoding it; ok is false when there is no such plain line.
func topLevelKind(data []byte) (string, bool) {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if rest, ok := bytes.CutPrefix(line, []byte("kind:")); ok {
			k := string(bytes.TrimSpace(rest))
			if k == "" || strings.ContainsAny(k, "#'\"&*!|>{[") {
				return "", false
			}
			return k, true
		}
	}
	return "", false
}

// listItems decodes a document and, when it is a List, returns its items
// as objects of their own; otherwise the document itself.
func listItems(it *item, strict bool) []*item {
	it.decoded = true
	it.obj, it.decodeErr = decodeObject(it.doc.Data, strict)
	if errors.Is(it.decodeErr, errDuplicateKeys) {
		it.dups, it.decodeErr = true, nil
	}
	it.id = identify(it.obj)
	raw, isList := it.obj["items"].([]any)
	if !strings.EqualFold(it.id.Kind, "List") || (!isList && it.obj["items"] != nil) {
		return []*item{it}
	}
	out := make([]*item, 0, len(raw))
	for i, e := range raw {
		sub := &item{input: it.input, stream: it.stream, index: it.index + 1 + i, doc: it.doc, decoded: true, prefix: fmt.Sprintf("/items/%d", i)}
		if m, ok := e.(map[string]any); ok {
			sub.obj = m
		} else {
			sub.decodeErr = &decodeError{Msg: fmt.Sprintf("List item %d is %s, not an object", i, jsonTypeName(e))}
		}
		sub.id = identify(sub.obj)
		out = append(out, sub)
	}
	return out
}

// where names an object's place for errors about it.
func (v *Validator) where(inputs []Input, it *item) string {
	in := inputs[it.input]
	if name := in.Streams[it.stream].Name; name != "" {
		return fmt.Sprintf("%s:%d", name, it.doc.Line)
	}
	return "environment " + in.Env
}

// parallel runs f on every item with jobs workers. The workers live for
// the whole run: a goroutine per batch would start each time with a
// small stack and grow it again through the schema validator's deep
// recursion.
// Items are taken in batches, which keep the hand-off cheap next to small
// objects.
func parallel(ctx context.Context, jobs, batch int, items []*item, f func(*item)) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(jobs, (len(items)+batch-1)/batch) {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(int64(batch))) - batch
				if i >= len(items) {
					return
				}
				for _, it := range items[i:min(i+batch, len(items))] {
					f(it)
				}
			}
		})
	}
	wg.Wait()
	return ctx.Err()
}

func identify(obj map[string]any) Object {
	if obj == nil {
		return Object{}
	}
	o := Object{}
	o.APIVersion, _ = obj["apiVersion"].(string)
	o.Kind, _ = obj["kind"].(string)
	o.Namespace = stringAt(obj, "metadata", "namespace")
	o.Name = stringAt(obj, "metadata", "name")
	return o
}

// envState is what the checks of one input share.
type envState struct {
	name      string
	kube      *kubeSchemas
	crds      crdSchemas
	byKind    map[string][]*item
	policies  []*policy
	contracts []*contract
	matched   []atomic.Bool // per contract: an object it binds was seen
}

func (v *Validator) skipped(o Object) bool {
	if len(v.skip) == 0 {
		return false
	}
	return v.skip[o.Kind] || v.skip[o.APIVersion+"/"+o.Kind]
}

func (v *Validator) check(ctx context.Context, it *item, env *envState) Result {
	r := Result{Object: it.id}
	if it.decodeErr != nil {
		r.Status = Error
		msg := it.decodeErr.Error()
		var de *decodeError
		if errors.As(it.decodeErr, &de) && de.Line > 0 {
			msg = fmt.Sprintf("line %d: %s", it.doc.Start+de.Line-1, de.Msg)
		}
		r.Reason = "not a Kubernetes object: " + msg
		return r
	}
	switch {
	case r.Object.APIVersion == "" && r.Object.Kind == "":
		r.Status, r.Reason = Error, "the document has no apiVersion and no kind"
		return r
	case r.Object.APIVersion == "":
		r.Status, r.Reason = Error, "the document has no apiVersion"
		return r
	case r.Object.Kind == "":
		r.Status, r.Reason = Error, "the document has no kind"
		return r
	}
	if v.skipped(r.Object) {
		r.Status, r.Reason = Skipped, "--skip-kinds"
		return r
	}
	sch, rules, rule, err := schemaFor(env.kube.set, []crdSchemas{env.crds, v.checks.crds}, r.Object.APIVersion, r.Object.Kind)
	if err != nil {
		r.Status, r.Reason = Error, err.Error()
		return r
	}
	if sch == nil {
		reason := env.kube.unknownKind(r.Object)
		if v.opts.SkipUnknown {
			r.Status, r.Reason = Skipped, reason
		} else {
			r.Status, r.Reason = Error, reason+" (list its CustomResourceDefinition under crds: in envctl.yaml, or pass --skip-unknown)"
		}
		return r
	}
	r.Problems = violations(sch.Validate(it.obj), rule)
	if rules != nil {
		ps, notes := rules.check(ctx, it.obj, r.Problems)
		r.Problems = append(r.Problems, ps...)
		r.Notes = notes
	}
	r.Problems = append(r.Problems, checkLimits(it.obj, r.Object, env.kube.set.Version(), len(it.doc.Data))...)
	if it.dups {
		for _, d := range duplicateKeys(it.doc.Data) {
			segs := splitPointer(d.Pointer)
			r.Problems = append(r.Problems, Problem{Rule: rule, Path: d.Pointer, Message: fmt.Sprintf("duplicate field %q", segs[len(segs)-1]), keyword: "duplicate"})
		}
	}
	if r.Object.APIVersion == "v1" && (r.Object.Kind == "ConfigMap" || r.Object.Kind == "Secret") {
		r.Problems = append(r.Problems, env.checkContracts(it.obj, r.Object)...)
	}
	for _, p := range env.policies {
		r.Problems = append(r.Problems, p.check(it, env)...)
	}
	if r.Object.Kind == "Secret" {
		var keys []Problem
		if r.Object.APIVersion == "v1" {
			keys = secretKeyProblems(it, rule, r.Problems)
		}
		for i := range r.Problems {
			// Built-in policies and the API server's limits word their
			// messages from names, keys and sizes, never from values.
			if _, builtin := builtinRules[r.Problems[i].Rule]; !builtin && r.Problems[i].Rule != RuleAPILimits {
				r.Problems[i].Message = redactMessage(r.Problems[i])
			}
		}
		// Worded without the key, so not redacted into a bare keyword.
		r.Problems = append(r.Problems, keys...)
	}
	sortProblems(r.Problems)
	r.Problems = slices.CompactFunc(r.Problems, func(a, b Problem) bool {
		return a.Rule == b.Rule && a.Path == b.Path && a.Pointer == b.Pointer && a.Message == b.Message
	})
	if len(r.Problems) > 0 {
		r.Status = Invalid
	}
	return r
}

func (k *kubeSchemas) unknownKind(o Object) string {
	if vs := k.apiVersions[o.Kind]; len(vs) > 0 {
		return fmt.Sprintf("Kubernetes %s has no %s %s (it has %s %s)", k.set.Version(), o.APIVersion, o.Kind, o.Kind, strings.Join(vs, ", "))
	}
	return fmt.Sprintf("no schema for %s %s: Kubernetes %s does not have it and no CustomResourceDefinition defines it", o.APIVersion, o.Kind, k.set.Version())
}

// locateInFile sets the file and line of a result of a -f file, and the
// lines of its problems.
func locateInFile(name string, it *item, r *Result) {
	r.Source, r.located = Source{File: name, Line: it.doc.Line}, len(r.Problems)+1
	if len(r.Problems) == 0 && it.prefix == "" {
		return
	}
	var line func(pointer string) int
	if lines, ok := fastLines(it.doc.Data); ok {
		line = func(pointer string) int { return lineAt(lines, pointer) }
	} else {
		var node yaml3.Node
		if yaml3.Unmarshal(it.doc.Data, &node) != nil {
			return
		}
		line = func(pointer string) int { return lineOf(&node, pointer) }
	}
	if it.prefix != "" {
		r.Source.Line = it.doc.Start + line(it.prefix) - 1
	}
	for j := range r.Problems {
		if l := line(it.prefix + r.Problems[j].Path); l > 0 {
			r.Problems[j].Line = it.doc.Start + l - 1
		}
	}
}

// locate fills in the sources of an input's results and the lines of
// their problems. Rendered environments are mapped to their files only
// when they have findings.
func (v *Validator) locate(ctx context.Context, input int, in Input, items []*item, results []Result) error {
	byIndex := map[int]*item{}
	for _, it := range items {
		if it.input == input {
			byIndex[it.index] = it
		}
	}
	needed := false
	for _, r := range results {
		if r.Status == Invalid || r.Status == Error {
			needed = true
		}
	}
	var origins map[Object]Origin
	if needed && in.Origins != nil {
		o, err := in.Origins(ctx)
		if err != nil {
			return fmt.Errorf("environment %s: mapping objects to their files: %w", in.Env, err)
		}
		origins = o
	}
	for i := range results {
		r := &results[i]
		it := byIndex[r.index]
		if r.index < 0 || it == nil {
			// A result that is not a document (a contract's missing object).
			if o, ok := origins[r.Object]; ok {
				r.Source = o.Source
			}
			continue
		}
		if name := in.Streams[it.stream].Name; name != "" {
			// Server refusals come after the check located the result.
			if r.located != len(r.Problems)+1 {
				locateInFile(name, it, r)
			}
			continue
		}
		o, ok := origins[r.Object]
		if !ok {
			continue
		}
		r.Source = o.Source
		for j := range r.Problems {
			r.Problems[j].Line = o.Source.Line
			if o.Doc != nil {
				if l := lineOf(o.Doc, r.Problems[j].Path); l > 0 {
					r.Problems[j].Line = l
				}
			}
		}
	}
	return nil
}
