package deploy

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/envctl/envctl/internal/drift"
)

// ReleaseType is the Secret type that marks an envctl release. Releases
// are Secrets, not ConfigMaps, because the render they keep holds the
// environment's Secrets.
const ReleaseType = "envctl.dev/release.v1"

// Labels on release Secrets, so that history is one LIST.
const (
	LabelEnvironment = "envctl.dev/environment"
	LabelRevision    = "envctl.dev/revision"
	LabelStatus      = "envctl.dev/status"
	labelManagedBy   = "app.kubernetes.io/managed-by"
)

// Status is where a release stands.
type Status string

const (
	// StatusPending: the apply that records it has started and not ended.
	// A pending release that is not the running apply's was killed half
	// way; its inventory is still pruned from.
	StatusPending Status = "pending"
	// StatusDeployed: the newest successful release.
	StatusDeployed Status = "deployed"
	// StatusFailed: the apply, its wait or its prune failed.
	StatusFailed Status = "failed"
	// StatusSuperseded: an earlier deployed release.
	StatusSuperseded Status = "superseded"
	// StatusRolledBack: a release that a rollback replaced.
	StatusRolledBack Status = "rolled-back"
	// StatusDeleted: the environment was deleted (envctl delete).
	StatusDeleted Status = "deleted"
	// StatusUnreadable: the release Secret exists but cannot be decoded
	// (edited by hand). History shows it; apply skips it.
	StatusUnreadable Status = "unreadable"
)

// Item is one object in a release's inventory.
type Item struct {
	drift.ObjectID
	// Retained marks an old generation of a hashed ConfigMap or Secret
	// that this release does not render but keeps, because a live
	// ReplicaSet, ControllerRevision or Job, or a recent release, still
	// uses it. gc deletes the ones nothing uses.
	Retained bool `json:"retained,omitempty"`
}

// Release is one apply, rollback or delete of an environment.
type Release struct {
	Environment string    `json:"environment"`
	Revision    int       `json:"revision"`
	Status      Status    `json:"status"`
	Started     time.Time `json:"started"`
	Finished    time.Time `json:"finished,omitzero"`
	// User is who applied, as the API server authenticated them.
	User string `json:"user,omitempty"`
	// Commit is the git commit of the repository, Dirty whether its work
	// tree had changes.
	Commit string `json:"commit,omitempty"`
	Dirty  bool   `json:"dirty,omitempty"`
	// Version is envctl's.
	Version string `json:"version,omitempty"`
	// Description says what made the release: "apply", "rollback to 3",
	// "delete".
	Description string `json:"description,omitempty"`
	// PlanID is the reviewed plan the release applied, if any, and
	// Planner who made it.
	PlanID  string `json:"planID,omitempty"`
	Planner string `json:"planner,omitempty"`
	// Signers are who approved the plan: the allowed signers whose
	// signatures apply verified.
	Signers []string `json:"signers,omitempty"`
	// Error is why a failed release failed.
	Error string `json:"error,omitempty"`
	// Counts of what the apply did.
	Created   int `json:"created"`
	Changed   int `json:"changed"`
	Pruned    int `json:"pruned"`
	Unchanged int `json:"unchanged"`
	// Inventory is every object the release applied or retained.
	Inventory []Item `json:"inventory"`
	// Render is the environment's rendered YAML, exactly as applied.
	Render []byte `json:"-"`

	// Name is the release Secret's name.
	Name string `json:"-"`
	// ReadError says why an unreadable release could not be decoded.
	ReadError string `json:"-"`
	rv        string
}

// SecretName is the name of an environment's release Secret.
func SecretName(env string, rev int) string {
	return fmt.Sprintf("envctl.%s.v%d", env, rev)
}

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// Store keeps an environment's releases as Secrets in its namespace.
type Store struct {
	Client      dynamic.Interface
	Namespace   string
	Environment string
}

func (s *Store) secrets() dynamic.ResourceInterface {
	return s.Client.Resource(secretsGVR).Namespace(s.Namespace)
}

// List returns the environment's releases, newest first. A release that
// cannot be decoded is returned with StatusUnreadable and ReadError.
func (s *Store) List(ctx context.Context) ([]*Release, error) {
	l, err := s.secrets().List(ctx, metav1.ListOptions{LabelSelector: LabelEnvironment + "=" + s.Environment})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil // the namespace does not exist yet
		}
		return nil, fmt.Errorf("reading the release history of %s in namespace %s: %w", s.Environment, s.Namespace, err)
	}
	var out []*Release
	for i := range l.Items {
		out = append(out, decode(&l.Items[i], s.Environment))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Revision > out[j].Revision })
	return out, nil
}

// Get returns one revision, with its render.
func (s *Store) Get(ctx context.Context, rev int) (*Release, error) {
	u, err := s.secrets().Get(ctx, SecretName(s.Environment, rev), metav1.GetOptions{})
	if err != nil {
		if apierrors.IsNotFound(err) {
			return nil, &NoRevisionError{Environment: s.Environment, Revision: rev}
		}
		return nil, err
	}
	r := decode(u, s.Environment)
	if r.Status == StatusUnreadable {
		return nil, fmt.Errorf("release %d of %s (Secret %s/%s) is unreadable: %s", rev, s.Environment, s.Namespace, r.Name, r.ReadError)
	}
	return r, nil
}

// NoRevisionError is a revision that is not in the history.
type NoRevisionError struct {
	Environment string
	Revision    int
}

func (e *NoRevisionError) Error() string {
	return fmt.Sprintf("%s has no release %d (envctl history %s lists them)", e.Environment, e.Revision, e.Environment)
}

// Create records a new release. It fails if the revision exists: two
// applies that got past the lock would not both write revision N.
func (s *Store) Create(ctx context.Context, r *Release) error {
	u, err := encode(r, s.Namespace)
	if err != nil {
		return err
	}
	got, err := s.secrets().Create(ctx, u, metav1.CreateOptions{FieldManager: "envctl"})
	if err != nil {
		return fmt.Errorf("recording release %d of %s: %w", r.Revision, r.Environment, err)
	}
	r.Name, r.rv = got.GetName(), got.GetResourceVersion()
	return nil
}

// Update rewrites a release (its status, counts and inventory).
func (s *Store) Update(ctx context.Context, r *Release) error {
	u, err := encode(r, s.Namespace)
	if err != nil {
		return err
	}
	u.SetResourceVersion(r.rv)
	got, err := s.secrets().Update(ctx, u, metav1.UpdateOptions{FieldManager: "envctl"})
	if err != nil {
		return fmt.Errorf("updating release %d of %s: %w", r.Revision, r.Environment, err)
	}
	r.rv = got.GetResourceVersion()
	return nil
}

// SetStatus changes only a release's status label and record, keeping
// its render: for marking earlier releases superseded.
func (s *Store) SetStatus(ctx context.Context, r *Release, st Status) error {
	full, err := s.Get(ctx, r.Revision)
	if err != nil {
		return err
	}
	full.Status = st
	if err := s.Update(ctx, full); err != nil {
		return err
	}
	r.Status, r.rv = st, full.rv
	return nil
}

// Delete removes a release Secret.
func (s *Store) Delete(ctx context.Context, r *Release) error {
	err := s.secrets().Delete(ctx, r.Name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}

// record is what the Secret's "release" key holds, gzipped.
type record struct {
	*Release
	Render string `json:"render"`
}

func encode(r *Release, ns string) (*unstructured.Unstructured, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(record{Release: r, Render: string(r.Render)}); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sec := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name:      SecretName(r.Environment, r.Revision),
			Namespace: ns,
			Labels: map[string]string{
				LabelEnvironment: r.Environment,
				LabelRevision:    strconv.Itoa(r.Revision),
				LabelStatus:      string(r.Status),
				labelManagedBy:   "envctl",
			},
		},
		Type: ReleaseType,
		Data: map[string][]byte{"release": buf.Bytes()},
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(sec)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// decode reads a release Secret. Whatever is wrong with it makes the
// release unreadable rather than failing the caller: a Secret edited by
// hand must not stop the next apply.
func decode(u *unstructured.Unstructured, env string) *Release {
	rev, _ := strconv.Atoi(u.GetLabels()[LabelRevision])
	bad := func(format string, args ...any) *Release {
		return &Release{Environment: env, Revision: rev, Name: u.GetName(), Status: StatusUnreadable,
			ReadError: fmt.Sprintf(format, args...), rv: u.GetResourceVersion()}
	}
	var sec corev1.Secret
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &sec); err != nil {
		return bad("not a Secret: %v", err)
	}
	if string(sec.Type) != ReleaseType {
		return bad("type is %q, want %q", sec.Type, ReleaseType)
	}
	data, ok := sec.Data["release"]
	if !ok {
		return bad("no key \"release\" in its data")
	}
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return bad("data.release is not gzip: %v", err)
	}
	// A release of a large environment is a few MB; more is not ours.
	raw, err := io.ReadAll(io.LimitReader(zr, 256<<20))
	if err != nil {
		return bad("data.release: %v", err)
	}
	rec := record{Release: &Release{}}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return bad("data.release: %v", err)
	}
	r := rec.Release
	if r.Revision != rev || r.Environment != env {
		return bad("it records release %d of %q, its labels say %d of %q", r.Revision, r.Environment, rev, env)
	}
	r.Render = []byte(rec.Render)
	r.Name, r.rv = u.GetName(), u.GetResourceVersion()
	return r
}

// wasDeployed: releases that were live at some time.
func (r *Release) wasDeployed() bool {
	return r.Status == StatusDeployed || r.Status == StatusSuperseded || r.Status == StatusRolledBack
}

// RollbackTarget picks the release a rollback re-applies: revision rev,
// or when rev is 0 the newest release that was deployed before the
// current one. hist is newest first, as Store.List returns it.
func RollbackTarget(env string, hist []*Release, rev int) (*Release, error) {
	if rev > 0 {
		for _, r := range hist {
			if r.Revision != rev {
				continue
			}
			switch {
			case r.Status == StatusUnreadable:
				return nil, fmt.Errorf("release %d of %s is unreadable (%s): it cannot be rolled back to", rev, env, r.ReadError)
			case !r.wasDeployed():
				return nil, fmt.Errorf("release %d of %s is %s: roll back to a release that was deployed (envctl history %s)", rev, env, r.Status, env)
			}
			return r, nil
		}
		return nil, &NoRevisionError{Environment: env, Revision: rev}
	}
	current := -1
	for i, r := range hist {
		if r.Status == StatusDeployed {
			current = i
			break
		}
	}
	if current < 0 {
		return nil, fmt.Errorf("%s has no deployed release to roll back from (envctl history %s)", env, env)
	}
	for _, r := range hist[current+1:] {
		if r.wasDeployed() {
			return r, nil
		}
	}
	return nil, fmt.Errorf("%s has no release deployed before %d to roll back to", env, hist[current].Revision)
}
