package testcluster

import (
	"context"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var workloads = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
}

// CompleteRollouts stands in for the controllers the test API server does
// not run: until the test ends, every Deployment, StatefulSet, DaemonSet
// and Job in namespace ns whose status lags its spec gets the status its
// controller would write once the rollout (or the Job) succeeded.
func (c *Cluster) CompleteRollouts(tb testing.TB, ns string) {
	tb.Helper()
	stop, err := c.StartRollouts(ns)
	if err != nil {
		tb.Fatalf("testcluster: %v", err)
	}
	tb.Cleanup(stop)
}

// StartRollouts is CompleteRollouts until stop is called, for callers
// without a testing.TB (testscript commands).
func (c *Cluster) StartRollouts(ns string) (stop func(), err error) {
	dc, err := dynamic.NewForConfig(c.RESTConfig(UserAdmin))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			for _, gvr := range workloads {
				l, err := dc.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					continue
				}
				for i := range l.Items {
					u := &l.Items[i]
					if st := readyStatus(gvr.Resource, u); st != nil {
						u.Object["status"] = st
						_, _ = dc.Resource(gvr).Namespace(ns).UpdateStatus(ctx, u, metav1.UpdateOptions{})
					}
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return func() { cancel(); <-done }, nil
}

// readyStatus is the status of a finished rollout of u, or nil when u
// already has it.
func readyStatus(resource string, u *unstructured.Unstructured) map[string]any {
	gen := u.GetGeneration()
	observed, _, _ := unstructured.NestedInt64(u.Object, "status", "observedGeneration")
	if resource == "jobs" {
		if s, _, _ := unstructured.NestedInt64(u.Object, "status", "succeeded"); s > 0 {
			return nil
		}
		now := time.Now().UTC().Format(time.RFC3339)
		return map[string]any{
			"startTime": now, "completionTime": now, "succeeded": int64(1),
			"conditions": []any{
				map[string]any{"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
				map[string]any{"type": "Complete", "status": "True", "lastTransitionTime": now},
			},
		}
	}
	if observed >= gen {
		return nil
	}
	replicas, found, _ := unstructured.NestedInt64(u.Object, "spec", "replicas")
	if !found {
		replicas = 1
	}
	now := time.Now().UTC().Format(time.RFC3339)
	switch resource {
	case "deployments":
		return map[string]any{
			"observedGeneration": gen, "replicas": replicas, "updatedReplicas": replicas,
			"readyReplicas": replicas, "availableReplicas": replicas,
			"conditions": []any{
				map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastUpdateTime": now, "lastTransitionTime": now},
				map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastUpdateTime": now, "lastTransitionTime": now},
			},
		}
	case "statefulsets":
		return map[string]any{
			"observedGeneration": gen, "replicas": replicas, "updatedReplicas": replicas,
			"readyReplicas": replicas, "availableReplicas": replicas, "currentReplicas": replicas,
			"currentRevision": u.GetName() + "-1", "updateRevision": u.GetName() + "-1",
		}
	case "daemonsets":
		return map[string]any{
			"observedGeneration": gen, "desiredNumberScheduled": int64(1), "currentNumberScheduled": int64(1),
			"updatedNumberScheduled": int64(1), "numberReady": int64(1), "numberAvailable": int64(1), "numberMisscheduled": int64(0),
		}
	}
	return nil
}
