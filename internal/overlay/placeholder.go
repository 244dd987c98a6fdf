package overlay

import (
	"encoding/base64"
	"strings"

	"sigs.k8s.io/kustomize/kyaml/kio"
	"sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/envctl/envctl/internal/manifest"
	"github.com/envctl/envctl/internal/secrets"
)

// PlaceholderAnnotation marks, in a --no-decrypt render, each Secret that
// holds placeholder values: its content, and so a generated name's hash,
// is not the real render's. Whoever reads the output (a reviewer, a
// policy check) sees it on the object, not only in a warning.
const PlaceholderAnnotation = "envctl.dev/no-decrypt"

const placeholderNote = "placeholder values (rendered without keys): the name hash is not the real one"

// markPlaceholders annotates the Secrets of y that hold a placeholder
// value (secrets.Placeholder, as data or stringData).
func markPlaceholders(y []byte) ([]byte, error) {
	nodes, err := manifest.Parse(y)
	if err != nil {
		return nil, err
	}
	marked := false
	for _, n := range nodes {
		if n.GetKind() != "Secret" || n.GetApiVersion() != "v1" || !holdsPlaceholder(n) {
			continue
		}
		if err := n.PipeE(yaml.SetAnnotation(PlaceholderAnnotation, placeholderNote)); err != nil {
			return nil, err
		}
		marked = true
	}
	if !marked {
		return y, nil
	}
	out, err := kio.StringAll(nodes)
	return []byte(out), err
}

func holdsPlaceholder(n *yaml.RNode) bool {
	for _, field := range []string{"data", "stringData"} {
		m := n.Field(field)
		if m == nil || m.Value.YNode().Kind != yaml.MappingNode {
			continue
		}
		c := m.Value.YNode().Content
		for i := 1; i < len(c); i += 2 {
			v := c[i].Value
			if strings.Contains(v, secrets.Placeholder) {
				return true
			}
			if b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), "")); err == nil && strings.Contains(string(b), secrets.Placeholder) {
				return true
			}
		}
	}
	return false
}

// rendersPlaceholderKind says whether a --no-decrypt render holds an
// object whose apiVersion or kind is a placeholder.
func rendersPlaceholderKind(y []byte) bool {
	nodes, err := manifest.Parse(y)
	if err != nil {
		return false
	}
	for _, n := range nodes {
		if n.GetApiVersion() == secrets.Placeholder || n.GetKind() == secrets.Placeholder {
			return true
		}
	}
	return false
}

// WholeManifestError is a --no-decrypt render of a manifest whose
// apiVersion and kind are SOPS ciphertext: without keys there is no
// object to render.
type WholeManifestError struct {
	Files []string
}

func (e *WholeManifestError) Error() string {
	return strings.Join(e.Files, ", ") + ": " + e.Problem()
}

// Problem is the message without the files.
func (e *WholeManifestError) Problem() string {
	return "encrypted whole (its apiVersion and kind are ciphertext), so --no-decrypt cannot render it; encrypt only its data: encrypted_regex: ^(data|stringData)$ in its .sops.yaml rule, then decrypt and encrypt it again (envctl secrets encrypt does this for Secret manifests)"
}
