package review

import (
	"encoding/base64"
	"fmt"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/render"
	"github.com/envctl/envctl/internal/repo"
)

// Expected is what is expected to differ between two environments (the
// `compare:` section of envctl.yaml).
type Expected struct {
	Namespaces   bool
	NamePrefixes map[string]string
	Hostnames    map[string]string
	Ignore       []drift.IgnoreRule
}

// ExpectedFrom maps the compare section of envctl.yaml.
func ExpectedFrom(c repo.Compare) Expected {
	e := Expected{Namespaces: c.Namespaces, NamePrefixes: c.NamePrefixes, Hostnames: c.Hostnames}
	for _, r := range c.Ignore {
		e.Ignore = append(e.Ignore, drift.IgnoreRule{APIVersion: r.APIVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name, Pointer: r.Path})
	}
	return e
}

// Environments compares two rendered environments: from, the baseline
// (the environment a change is promoted from), and to. What exp expects
// to differ is set aside first: from's namespace, name prefix and host
// name are rewritten, wherever they occur in a value, to to's (so the
// report names objects as to names them), and exp.Ignore's fields are
// skipped on both sides. What is left is reported as drift.Compare
// reports a change between two renders, with its rollout impact.
func Environments(from, to render.Rendered, exp Expected) (*drift.Report, error) {
	if from.Env.Name == to.Env.Name {
		return nil, fmt.Errorf("comparing %s with itself", to.Env.Name)
	}
	base, err := manifest.Parse(from.Result.YAML)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the rendered objects: %w", from.Env.Name, err)
	}
	desired, err := manifest.Parse(to.Result.YAML)
	if err != nil {
		return nil, fmt.Errorf("%s: parsing the rendered objects: %w", to.Env.Name, err)
	}
	var subs []substitution
	if exp.Namespaces {
		a, b := namespaceOf(from.Env, base), namespaceOf(to.Env, desired)
		if a != "" && b != "" && a != b {
			subs = append(subs, substitution{from: a, to: b})
		}
	}
	if h1, h2 := exp.Hostnames[from.Env.Name], exp.Hostnames[to.Env.Name]; h1 != "" && h2 != "" && h1 != h2 {
		subs = append(subs, substitution{from: h1, to: h2})
	}
	p1, ok1 := exp.NamePrefixes[from.Env.Name]
	p2, ok2 := exp.NamePrefixes[to.Env.Name]
	switch {
	case !ok1 || !ok2 || p1 == p2:
	case p1 != "":
		subs = append(subs, substitution{from: p1, to: p2, prefix: true})
	default:
		// from has no prefix and to has one: nothing in from marks where
		// to add it, so to's is taken off instead.
		for _, n := range desired {
			rewriteObject(n, []substitution{{from: p2, prefix: true}})
		}
	}
	for _, n := range base {
		rewriteObject(n, subs)
	}
	return drift.Compare(desired, base, drift.Options{Environment: to.Env.Name, Baseline: from.Env.Name, Ignore: exp.Ignore})
}

// namespaceOf is the environment's namespace: envctl.yaml's, else the
// one most of its objects have.
func namespaceOf(env repo.Environment, objs []*yaml.RNode) string {
	if env.Namespace != "" {
		return env.Namespace
	}
	count := map[string]int{}
	best := ""
	for _, o := range objs {
		ns := o.GetNamespace()
		if ns == "" {
			continue
		}
		count[ns]++
		if count[ns] > count[best] || count[ns] == count[best] && ns < best {
			best = ns
		}
	}
	return best
}

// substitution replaces from by to where from is a whole token of a
// value (not inside a longer name): api.<from>.svc, <from>/api. A prefix
// substitution needs only the token's start: <from>api-config.
type substitution struct {
	from, to string
	prefix   bool
}

// rewriteObject applies subs to an object's values; a Secret's data is
// decoded first (a URL in a Secret names a namespace or a host as often
// as one in a ConfigMap).
func rewriteObject(n *yaml.RNode, subs []substitution) {
	if len(subs) == 0 {
		return
	}
	rewrite(n.YNode(), subs)
	if n.GetKind() != "Secret" || n.GetApiVersion() != "v1" {
		return
	}
	data := n.Field("data")
	if data == nil || data.Value.YNode().Kind != yaml.MappingNode {
		return
	}
	c := data.Value.YNode().Content
	for i := 1; i < len(c); i += 2 {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c[i].Value), ""))
		if err != nil {
			continue
		}
		v := string(raw)
		for _, s := range subs {
			v = s.apply(v)
		}
		if v != string(raw) {
			c[i].Value = base64.StdEncoding.EncodeToString([]byte(v))
		}
	}
}

// rewrite applies subs to every scalar value under n (mapping keys are
// left alone: labels and data keys are names, not references).
func rewrite(n *yaml.Node, subs []substitution) {
	if n == nil || len(subs) == 0 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			rewrite(c, subs)
		}
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			rewrite(n.Content[i], subs)
		}
	case yaml.ScalarNode:
		if n.Tag == "!!str" || n.Tag == "" {
			for _, s := range subs {
				n.Value = s.apply(n.Value)
			}
		}
	}
}

func (s substitution) apply(v string) string {
	if s.from == "" || !strings.Contains(v, s.from) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); {
		j := strings.Index(v[i:], s.from)
		if j < 0 {
			b.WriteString(v[i:])
			break
		}
		j += i
		end := j + len(s.from)
		startOK := j == 0 || !nameChar(v[j-1])
		endOK := s.prefix || end == len(v) || !nameChar(v[end])
		b.WriteString(v[i:j])
		if startOK && endOK {
			b.WriteString(s.to)
		} else {
			b.WriteString(s.from)
		}
		i = end
	}
	return b.String()
}

// nameChar reports whether c continues a Kubernetes name or host label,
// so that a token next to it is part of something longer.
func nameChar(c byte) bool {
	return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
