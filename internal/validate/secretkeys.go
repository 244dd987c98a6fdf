package validate

import (
	"fmt"
	"regexp"
	"strings"

	yaml3 "go.yaml.in/yaml/v3"
)

// secretKeyRe is what the API server accepts as a Secret's data key.
var secretKeyRe = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// secretKeyProblems finds the data and stringData keys of a Secret that
// the API server would refuse. Such a key is most often a value that lost
// its "KEY=" (an env-file line without "="), so it is named by its
// position and line, never by its text, and every other problem under it
// has its path rewritten the same way.
func secretKeyProblems(it *item, rule string, problems []Problem) []Problem {
	var out []Problem
	for _, field := range []string{"data", "stringData"} {
		m, _ := it.obj[field].(map[string]any)
		bad := false
		for k := range m {
			if !secretKeyRe.MatchString(k) {
				bad = true
			}
		}
		if !bad {
			continue
		}
		// Positions as written, from the document itself.
		var root yaml3.Node
		_ = yaml3.Unmarshal(it.doc.Data, &root)
		keys := mappingKeys(&root, field)
		for i, k := range keys {
			if secretKeyRe.MatchString(k.Value) {
				continue
			}
			at := fmt.Sprintf("/%s/(key %d)", field, i+1)
			out = append(out, Problem{Rule: rule, Path: "/" + field, Line: it.doc.Start + k.Line - 1,
				Message: fmt.Sprintf("key %d is not a valid Secret key: letters, digits, '-', '_' and '.' only (the key is not shown: it may be a value)", i+1), keyword: "secret-key"})
			raw := "/" + field + "/" + escapePointer(k.Value)
			for j := range problems {
				p := &problems[j]
				if p.Path == raw || strings.HasPrefix(p.Path, raw+"/") {
					p.Path = at + strings.TrimPrefix(p.Path, raw)
				}
				if p.Key == k.Value {
					p.Key = fmt.Sprintf("(key %d)", i+1)
				}
				p.Message = strings.ReplaceAll(p.Message, k.Value, fmt.Sprintf("(key %d)", i+1))
			}
		}
	}
	return out
}

// mappingKeys returns the key nodes of the top-level mapping field of a
// document, in the order written.
func mappingKeys(root *yaml3.Node, field string) []*yaml3.Node {
	n := root
	if n.Kind == yaml3.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	if n.Kind != yaml3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == field && n.Content[i+1].Kind == yaml3.MappingNode {
			var keys []*yaml3.Node
			for j := 0; j+1 < len(n.Content[i+1].Content); j += 2 {
				keys = append(keys, n.Content[i+1].Content[j])
			}
			return keys
		}
	}
	return nil
}
