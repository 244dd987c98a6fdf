package deploy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/envctl/envctl/internal/drift"
	"github.com/envctl/envctl/internal/live"
)

// PlanAPIVersion and PlanKind mark a plan file; a file of another version
// is refused, not guessed at.
const (
	PlanAPIVersion = "envctl.dev/v1alpha1"
	PlanKind       = "Plan"
)

// PlanFile is a reviewed plan: what an apply will change, and everything
// that must not move before it does. It holds no Secret value: Secret
// fields are masked in Changes, and the render is pinned by digest.
type PlanFile struct {
	APIVersion  string    `json:"apiVersion"`
	Kind        string    `json:"kind"`
	ID          string    `json:"id"`
	Environment string    `json:"environment"`
	Namespace   string    `json:"namespace"`
	Created     time.Time `json:"created"`
	// RenderDigest is the SHA-256 of the rendered stream.
	RenderDigest string `json:"renderDigest"`
	// ConfigDigest is the SHA-256 of envctl.yaml ("" without one).
	ConfigDigest string `json:"configDigest,omitempty"`
	Commit       string `json:"commit,omitempty"`
	Dirty        bool   `json:"dirty,omitempty"`
	// Planner is who made the plan, as the API server authenticated them.
	Planner string  `json:"planner,omitempty"`
	Cluster Cluster `json:"cluster"`
	// Previous is the release the plan was made against (0: none).
	Previous int          `json:"previous"`
	Steps    []PinnedStep `json:"steps"`
	// Rollout is the plan's rollout impact, for the reviewer.
	Rollout *drift.Rollout `json:"rollout,omitempty"`
	// Signatures are reviewers' SSH signatures of the plan (its
	// SigningPayload). They are not part of the id: signing a plan does
	// not change what it is.
	Signatures []PlanSignature `json:"signatures,omitempty"`
}

// PlanSignature is one SSH signature of a plan, in ssh-keygen -Y sign's
// armored format. Signer and Key say who signed, for people; apply
// believes only the signature and the environment's allowed signers.
type PlanSignature struct {
	Signer    string `json:"signer,omitempty"`
	Key       string `json:"key"` // SHA256 fingerprint
	Signature string `json:"signature"`
}

// SignatureNamespace binds a plan signature to plans (ssh-keygen -n):
// a signed commit or file cannot pass for an approved plan.
const SignatureNamespace = "envctl-plan"

// SigningPayload is the message a reviewer signs: the environment, the
// id and the whole content's SHA-256, one line, so that `ssh-keygen -Y
// sign -n envctl-plan` of it is a valid approval too.
func (pf *PlanFile) SigningPayload() []byte {
	return []byte(fmt.Sprintf("envctl plan %s %s sha256:%s\n", pf.Environment, pf.ID, pf.digest()))
}

// Cluster identifies a cluster: its URL can be shared by two clusters
// over time, the uid of its kube-system namespace cannot.
type Cluster struct {
	Server        string `json:"server"`
	KubeSystemUID string `json:"kubeSystemUID"`
}

// PinnedStep is a step of a plan, with the live object it was planned
// against.
type PinnedStep struct {
	ID      drift.ObjectID      `json:"id"`
	Action  Action              `json:"action"`
	Why     string              `json:"why,omitempty"`
	Changes []drift.FieldChange `json:"changes,omitempty"`
	Rolls   []drift.ObjectID    `json:"rolls,omitempty"`
	// UID and ResourceVersion of the live object (none for a create).
	UID             string `json:"uid,omitempty"`
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// Digest is the hex SHA-256 of b.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Identify returns the cluster's identity.
func Identify(ctx context.Context, c *live.Cluster) (Cluster, error) {
	u, err := c.Dynamic().Resource(namespacesGVR).Get(ctx, "kube-system", metav1.GetOptions{})
	if err != nil {
		return Cluster{}, fmt.Errorf("identifying the cluster (namespace kube-system): %w", err)
	}
	return Cluster{Server: c.Server, KubeSystemUID: string(u.GetUID())}, nil
}

// NewPlanFile pins plan: every create, change and prune, with the live
// object's uid and resourceVersion. Unchanged objects are not pinned: a
// change to one of them makes the re-plan differ, which is caught there.
func NewPlanFile(p *Plan, render []byte, config []byte, commit string, dirty bool, cl Cluster, now time.Time) *PlanFile {
	pf := &PlanFile{
		APIVersion: PlanAPIVersion, Kind: PlanKind,
		Environment: p.Environment, Namespace: p.Namespace, Created: now.UTC().Truncate(time.Second),
		RenderDigest: Digest(render), Commit: commit, Dirty: dirty, Cluster: cl,
	}
	if config != nil {
		pf.ConfigDigest = Digest(config)
	}
	if p.Previous != nil {
		pf.Previous = p.Previous.Revision
	}
	pf.Rollout = p.Rollout
	for _, s := range p.Steps {
		switch s.Action {
		case ActionCreate, ActionChange, ActionPrune:
			pf.Steps = append(pf.Steps, PinnedStep{ID: s.ID, Action: s.Action, Why: s.Why, Changes: s.Changes, Rolls: s.Rolls,
				UID: string(s.uid), ResourceVersion: s.resourceVersion})
		}
	}
	pf.ID = pf.digest()[:12]
	return pf
}

// Seal returns the id for the file's content, after a field was set.
func (pf *PlanFile) Seal() string { return pf.digest()[:12] }

// digest is over the whole file but its id.
func (pf *PlanFile) digest() string {
	c := *pf
	c.ID, c.Signatures = "", nil
	b, _ := json.Marshal(c)
	return Digest(b)
}

// ReadPlanFile decodes a plan file and checks that it is one, of this
// format, and not edited (its id is its content's digest).
func ReadPlanFile(name string, data []byte) (*PlanFile, error) {
	var pf PlanFile
	if err := json.Unmarshal(data, &pf); err != nil {
		return nil, fmt.Errorf("%s: not a plan file: %w", name, err)
	}
	if pf.Kind != PlanKind || pf.APIVersion != PlanAPIVersion {
		return nil, fmt.Errorf("%s: a plan of format %q %q; this envctl reads %q %q: make the plan again", name, pf.APIVersion, pf.Kind, PlanAPIVersion, PlanKind)
	}
	if want := pf.digest()[:12]; pf.ID != want {
		return nil, fmt.Errorf("%s: the plan was edited after it was made (its id %s does not match its content); make the plan again", name, pf.ID)
	}
	return &pf, nil
}

// MovedError lists what changed since a plan was made.
type MovedError struct {
	PlanID string
	Moved  []string
}

func (e *MovedError) Error() string {
	return fmt.Sprintf("plan %s no longer describes what apply would do; nothing was applied:\n  %s\nmake the plan again and have it reviewed", e.PlanID, strings.Join(e.Moved, "\n  "))
}

// Check compares a plan file with what is true now: the render, the
// configuration, the cluster, the plan made now (same steps) and the
// live objects it pins. maxAge 0 accepts any age.
func (pf *PlanFile) Check(env string, render, config []byte, cl Cluster, now *Plan, at time.Time, maxAge time.Duration) error {
	var moved []string
	add := func(format string, args ...any) { moved = append(moved, fmt.Sprintf(format, args...)) }
	if pf.Environment != env {
		add("the plan is for environment %s, not %s", pf.Environment, env)
	}
	if maxAge > 0 && at.Sub(pf.Created) > maxAge {
		add("the plan was made %s ago, more than --plan-max-age %s", at.Sub(pf.Created).Round(time.Minute), maxAge)
	}
	if pf.Cluster != cl {
		add("the plan is for cluster %s (kube-system %s), this is %s (kube-system %s)", pf.Cluster.Server, pf.Cluster.KubeSystemUID, cl.Server, cl.KubeSystemUID)
	}
	if pf.RenderDigest != Digest(render) {
		add("the render changed (digest %s, planned %s)", Digest(render)[:12], pf.RenderDigest[:12])
	}
	if config != nil && pf.ConfigDigest != Digest(config) {
		add("envctl.yaml changed")
	}
	prev := 0
	if now.Previous != nil {
		prev = now.Previous.Revision
	}
	if prev != pf.Previous {
		add("the deployed release is %d, the plan was made against %d", prev, pf.Previous)
	}
	planned := map[drift.ObjectID]PinnedStep{}
	for _, s := range pf.Steps {
		planned[keyOf(s.ID)] = s
	}
	seen := map[drift.ObjectID]bool{}
	for _, s := range now.Steps {
		k := keyOf(s.ID)
		p, ok := planned[k]
		switch s.Action {
		case ActionCreate, ActionChange, ActionPrune:
			seen[k] = true
			switch {
			case !ok:
				add("%s: now to %s, not in the plan", s.ID, s.Action)
			case p.Action != s.Action:
				add("%s: planned to %s, now to %s", s.ID, p.Action, s.Action)
			case p.UID != string(s.uid) || p.ResourceVersion != s.resourceVersion:
				add("%s: changed in the cluster since the plan (resourceVersion %s, planned %s)", s.ID, orNone(s.resourceVersion), orNone(p.ResourceVersion))
			}
		}
	}
	for k, p := range planned {
		if !seen[k] {
			add("%s: planned to %s, now nothing to do", p.ID, p.Action)
		}
	}
	if len(moved) == 0 {
		return nil
	}
	slices.Sort(moved)
	return &MovedError{PlanID: pf.ID, Moved: moved}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// EncodePlanFile is the file's bytes: indented JSON, for review.
func EncodePlanFile(pf *PlanFile) ([]byte, error) {
	b, err := json.MarshalIndent(pf, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
