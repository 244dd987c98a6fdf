package rbac

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"sigs.k8s.io/yaml"
)

// Name is the name of every Role, ClusterRole and binding Write writes
// for sa: one name to find them all by. Two service accounts of the same
// name in different namespaces would share the ClusterRole's name, so
// give such accounts different names.
func Name(sa ServiceAccount) string { return sa.Name + "-reader" }

type object struct {
	APIVersion string    `json:"apiVersion"`
	Kind       string    `json:"kind"`
	Metadata   metadata  `json:"metadata"`
	Rules      []rule    `json:"rules,omitempty"`
	RoleRef    *roleRef  `json:"roleRef,omitempty"`
	Subjects   []subject `json:"subjects,omitempty"`
}

type metadata struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace,omitempty"`
}

type rule struct {
	APIGroups []string `json:"apiGroups"`
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

type roleRef struct {
	APIGroup string `json:"apiGroup"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
}

type subject struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

const rbacV1 = "rbac.authorization.k8s.io/v1"

// rules turns resources (sorted by group) into one rule per API group.
func rules(rs []Resource) []rule {
	var out []rule
	for _, r := range rs {
		if len(out) == 0 || out[len(out)-1].APIGroups[0] != r.Group {
			out = append(out, rule{APIGroups: []string{r.Group}, Verbs: verbs})
		}
		last := &out[len(out)-1]
		last.Resources = append(last.Resources, r.Resource)
	}
	return out
}

// Write prints g as a multi-document YAML stream of Roles, RoleBindings,
// and (when needed) a ClusterRole and ClusterRoleBinding, under a comment
// that says what it grants and why. command is how to regenerate it.
func Write(w io.Writer, g *Grant, command string) error {
	var b bytes.Buffer
	name := Name(g.ServiceAccount)
	sub := []subject{{Kind: "ServiceAccount", Name: g.ServiceAccount.Name, Namespace: g.ServiceAccount.Namespace}}
	header(&b, g, command)
	doc := func(comment string, o object) error {
		data, err := yaml.Marshal(o)
		if err != nil {
			return err
		}
		b.WriteString("---\n")
		if comment != "" {
			fmt.Fprintf(&b, "# %s\n", comment)
		}
		b.Write(data)
		return nil
	}
	if len(g.Cluster) > 0 {
		names := make([]string, len(g.Cluster))
		for i, r := range g.Cluster {
			names[i] = r.String()
		}
		if err := doc("Cluster-scoped kinds the environments render: "+strings.Join(names, ", "), object{
			APIVersion: rbacV1, Kind: "ClusterRole", Metadata: metadata{Name: name}, Rules: rules(g.Cluster),
		}); err != nil {
			return err
		}
		if err := doc("", object{
			APIVersion: rbacV1, Kind: "ClusterRoleBinding", Metadata: metadata{Name: name},
			RoleRef: &roleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: name}, Subjects: sub,
		}); err != nil {
			return err
		}
	}
	for _, ns := range g.Namespaces {
		if err := doc("Namespace "+ns.Namespace+", read by: "+strings.Join(ns.Environments, ", "), object{
			APIVersion: rbacV1, Kind: "Role", Metadata: metadata{Name: name, Namespace: ns.Namespace}, Rules: rules(ns.Resources),
		}); err != nil {
			return err
		}
		if err := doc("", object{
			APIVersion: rbacV1, Kind: "RoleBinding", Metadata: metadata{Name: name, Namespace: ns.Namespace},
			RoleRef: &roleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name}, Subjects: sub,
		}); err != nil {
			return err
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func header(b *bytes.Buffer, g *Grant, command string) {
	secrets := `# Secrets are granted only where an environment renders Secrets; there
# diff also reads envctl apply's release history (Secrets envctl.ENV.vN),
# whose inventory finds orphans. Elsewhere diff finds orphans by the
# environment's selector labels.`
	if g.ReleaseHistory {
		secrets = `# Secrets are granted in each environment's namespace (--release-history)
# so that diff reads envctl apply's release history (Secrets
# envctl.ENV.vN), whose inventory finds orphans: that is every Secret in
# the namespace.`
	}
	fmt.Fprintf(b, `# Least-privilege RBAC for envctl diff of %s,
# as the service account %s.
# Generated: %s
# Regenerate it when an environment starts rendering another kind or
# namespace: diff reports a kind it may not list ("forbidden", exit 2).
#
# It grants get and list, nothing else, on exactly the resources the
# environments render: a Role in each namespace they render into (diff
# lists every rendered kind once per namespace) and, only for the
# cluster-scoped kinds they render, a ClusterRole (listed once,
# cluster-wide). No subresources (pods/log, pods/exec, nodes/proxy), no
# wildcards, no writes.
%s
# Discovery (/version, /api, /apis) needs no rule: Kubernetes grants it to
# every authenticated user (ClusterRoles system:discovery and
# system:public-info-viewer).
`, strings.Join(g.Environments, ", "), g.ServiceAccount, command, secrets)
}
