package deploy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/envctl/envctl/internal/drift"
)

// NotReadyError is a wait that ran out of time or saw a rollout fail.
type NotReadyError struct {
	Timeout time.Duration
	Objects []NotReady
}

// NotReady is one object that did not become ready.
type NotReady struct {
	ID drift.ObjectID
	// Status is kstatus's: InProgress, Failed, Terminating, ...
	Status string
	// Message is the last condition's message.
	Message string
	// Events are the object's most recent events, newest last.
	Events []string
}

func (e *NotReadyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d object%s not ready after %s:", len(e.Objects), plural(len(e.Objects)), e.Timeout)
	for _, o := range e.Objects {
		fmt.Fprintf(&b, "\n  %s: %s: %s", o.ID, o.Status, o.Message)
		for _, ev := range o.Events {
			fmt.Fprintf(&b, "\n    event: %s", ev)
		}
	}
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// waitReady polls the created and changed objects until kstatus calls
// every one Current, one Failed, or the timeout passes. Objects without
// status semantics (ConfigMaps, Services) are Current at once.
func (a *applier) waitReady(ctx context.Context, steps []*Step, timeout time.Duration) error {
	var pending []*Step
	for _, s := range steps {
		if (s.Action == ActionCreate || s.Action == ActionChange) && hasRollout(s.ID) {
			pending = append(pending, s)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	last := map[*Step]*status.Result{}
	interval := 250 * time.Millisecond
	for {
		var still []*Step
		var failed []*Step
		for _, s := range pending {
			u, err := a.resource(s).Get(ctx, s.ID.Name, metav1.GetOptions{})
			if err != nil {
				return fmt.Errorf("waiting for %s: %w", s.ID, err)
			}
			res, err := status.Compute(u)
			if err != nil {
				return fmt.Errorf("waiting for %s: %w", s.ID, err)
			}
			last[s] = res
			switch res.Status {
			case status.CurrentStatus:
				a.report("ready %s", s.ID)
			case status.FailedStatus:
				failed = append(failed, s)
			default:
				still = append(still, s)
			}
		}
		if len(failed) > 0 || len(still) > 0 && time.Now().After(deadline) {
			return a.notReady(ctx, append(failed, still...), last, timeout)
		}
		if len(still) == 0 {
			return nil
		}
		a.report("waiting for %d of %d: %s", len(still), len(last), names(still))
		pending = still
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
		interval = min(interval*2, 2*time.Second)
	}
}

// names lists steps' objects as "Kind name", the first few.
func names(steps []*Step) string {
	var out []string
	for i, s := range steps {
		if i == 3 {
			out = append(out, fmt.Sprintf("and %d more", len(steps)-3))
			break
		}
		out = append(out, s.ID.Kind+" "+s.ID.Name)
	}
	return strings.Join(out, ", ")
}

// hasRollout: kinds whose readiness an apply waits for. Not
// PersistentVolumeClaims (with a WaitForFirstConsumer storage class they
// bind only when a pod uses them), LoadBalancer Services (some clusters
// never give them an address) or PodDisruptionBudgets: what they guard is
// covered by the workloads' own readiness.
func hasRollout(id drift.ObjectID) bool {
	switch id.Group + "/" + id.Kind {
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "batch/Job", "/Pod",
		"apiextensions.k8s.io/CustomResourceDefinition":
		return true
	}
	return false
}

func (a *applier) notReady(ctx context.Context, steps []*Step, last map[*Step]*status.Result, timeout time.Duration) error {
	e := &NotReadyError{Timeout: timeout}
	for _, s := range steps {
		nr := NotReady{ID: s.ID}
		if r := last[s]; r != nil {
			nr.Status, nr.Message = string(r.Status), r.Message
		}
		nr.Events = a.events(ctx, s)
		e.Objects = append(e.Objects, nr)
	}
	return e
}

var eventsGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}

// events returns the object's last five events, oldest first; a failure
// to read them only leaves them out.
func (a *applier) events(ctx context.Context, s *Step) []string {
	if !s.Namespaced {
		return nil
	}
	l, err := a.dyn.Resource(eventsGVR).Namespace(s.ID.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + s.ID.Name + ",involvedObject.kind=" + s.ID.Kind,
	})
	if err != nil {
		return nil
	}
	type ev struct {
		at  string
		msg string
	}
	var evs []ev
	for _, it := range l.Items {
		at, _, _ := unstructured.NestedString(it.Object, "lastTimestamp")
		if at == "" {
			at, _, _ = unstructured.NestedString(it.Object, "eventTime")
		}
		reason, _, _ := unstructured.NestedString(it.Object, "reason")
		msg, _, _ := unstructured.NestedString(it.Object, "message")
		evs = append(evs, ev{at, reason + ": " + msg})
	}
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].at < evs[j].at })
	if len(evs) > 5 {
		evs = evs[len(evs)-5:]
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.msg)
	}
	return out
}
