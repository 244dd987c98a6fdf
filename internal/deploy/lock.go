package deploy

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// LockTTL is how long a lock outlives its holder's last renewal. The
// holder renews every LockTTL/3, so a live apply never loses it; a killed
// one leaves a lock that the next apply takes over after LockTTL.
const LockTTL = 60 * time.Second

var leasesGVR = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}

// LockName is the Lease that serialises applies to an environment.
func LockName(env string) string { return "envctl-lock-" + env }

// Lock is a held environment lock. Release it when done.
type Lock struct {
	leases dynamic.ResourceInterface
	name   string
	// TookOver is set when the lock was taken from a holder that had
	// stopped renewing it: who, and when they took it.
	TookOver *LockedError

	mu     sync.Mutex
	lease  *coordv1.Lease
	stop   chan struct{}
	done   chan struct{}
	err    error
	ttl    time.Duration
	holder string
}

// LockedError is an environment another apply holds.
type LockedError struct {
	Environment string
	Holder      string
	Since       time.Time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("%s is being deployed by %s since %s (Lease %s); try again when it is done",
		e.Environment, e.Holder, e.Since.UTC().Format(time.RFC3339), LockName(e.Environment))
}

// Holder names this process for the lock: user, host and pid.
func Holder(user string) string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s on %s (pid %d)", user, host, os.Getpid())
}

// Acquire takes the environment's lock in namespace ns, or fails at once
// with a *LockedError naming the holder. A lock whose holder stopped
// renewing it more than ttl ago is taken over (Lock.TookOver says from
// whom). ttl 0 means LockTTL.
func Acquire(ctx context.Context, client dynamic.Interface, ns, env, holder string, ttl time.Duration) (*Lock, error) {
	if ttl <= 0 {
		ttl = LockTTL
	}
	l := &Lock{leases: client.Resource(leasesGVR).Namespace(ns), name: LockName(env), ttl: ttl, holder: holder}
	now := metav1.NewMicroTime(time.Now())
	secs := int32(ttl / time.Second)
	want := &coordv1.Lease{
		TypeMeta: metav1.TypeMeta{APIVersion: "coordination.k8s.io/v1", Kind: "Lease"},
		ObjectMeta: metav1.ObjectMeta{Name: l.name, Namespace: ns, Labels: map[string]string{LabelEnvironment: env, labelManagedBy: "envctl"},
			Annotations: map[string]string{annotationHost: hostname(), annotationPID: strconv.Itoa(os.Getpid())}},
		Spec: coordv1.LeaseSpec{
			HolderIdentity:       &holder,
			LeaseDurationSeconds: &secs,
			AcquireTime:          &now,
			RenewTime:            &now,
		},
	}
	got, err := l.create(ctx, want)
	if apierrors.IsAlreadyExists(err) {
		got, err = l.takeOver(ctx, env, want)
	}
	if err != nil {
		return nil, err
	}
	l.lease = got
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.renew()
	return l, nil
}

func (l *Lock) create(ctx context.Context, lease *coordv1.Lease) (*coordv1.Lease, error) {
	u, err := toUnstructured(lease)
	if err != nil {
		return nil, err
	}
	got, err := l.leases.Create(ctx, u, metav1.CreateOptions{FieldManager: "envctl"})
	if err != nil {
		return nil, err
	}
	return fromUnstructuredLease(got)
}

// takeOver replaces a stale lease, with its resourceVersion as the
// precondition: of two applies that find the same stale lock, one wins.
func (l *Lock) takeOver(ctx context.Context, env string, want *coordv1.Lease) (*coordv1.Lease, error) {
	u, err := l.leases.Get(ctx, l.name, metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	cur, err := fromUnstructuredLease(u)
	if err != nil {
		return nil, err
	}
	held := &LockedError{Environment: env}
	if h := cur.Spec.HolderIdentity; h != nil {
		held.Holder = *h
	}
	if t := cur.Spec.AcquireTime; t != nil {
		held.Since = t.Time
	}
	ttl := l.ttl
	if d := cur.Spec.LeaseDurationSeconds; d != nil {
		ttl = time.Duration(*d) * time.Second
	}
	renewed := cur.CreationTimestamp.Time
	if t := cur.Spec.RenewTime; t != nil {
		renewed = t.Time
	}
	if time.Since(renewed) < ttl && !holderGone(cur) {
		return nil, held
	}
	want.ResourceVersion = cur.ResourceVersion
	nu, err := toUnstructured(want)
	if err != nil {
		return nil, err
	}
	got, err := l.leases.Update(ctx, nu, metav1.UpdateOptions{FieldManager: "envctl"})
	if apierrors.IsConflict(err) {
		return nil, held
	}
	if err != nil {
		return nil, err
	}
	l.TookOver = held
	return fromUnstructuredLease(got)
}

// Where a lock's holder runs, so that a lock left by a process killed on
// this very host is taken over at once instead of after its TTL.
const (
	annotationHost = "envctl.dev/holder-host"
	annotationPID  = "envctl.dev/holder-pid"
)

func hostname() string {
	h, _ := os.Hostname()
	return h
}

// holderGone reports whether the lease's holder ran on this host as a
// process that no longer exists.
func holderGone(l *coordv1.Lease) bool {
	host := l.Annotations[annotationHost]
	pid, err := strconv.Atoi(l.Annotations[annotationPID])
	if host == "" || host != hostname() || err != nil || pid <= 0 {
		return false
	}
	return !processAlive(pid)
}

func (l *Lock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.ttl / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		lease := l.lease.DeepCopy()
		l.mu.Unlock()
		now := metav1.NewMicroTime(time.Now())
		lease.Spec.RenewTime = &now
		u, err := toUnstructured(lease)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			var got *unstructured.Unstructured
			got, err = l.leases.Update(ctx, u, metav1.UpdateOptions{FieldManager: "envctl"})
			cancel()
			if err == nil {
				var nl *coordv1.Lease
				if nl, err = fromUnstructuredLease(got); err == nil {
					l.mu.Lock()
					l.lease = nl
					l.mu.Unlock()
				}
			}
		}
		if err != nil {
			// A missed renewal is retried at the next tick: the lock
			// lasts three of them.
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
		}
	}
}

// Release stops renewing and deletes the lease, if it is still ours.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	uid, rv := l.lease.UID, l.lease.ResourceVersion
	l.mu.Unlock()
	err := l.leases.Delete(ctx, l.name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("releasing the lock %s: %w", l.name, err)
	}
	return nil
}

func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, err
	}
	return &unstructured.Unstructured{Object: m}, nil
}

func fromUnstructuredLease(u *unstructured.Unstructured) (*coordv1.Lease, error) {
	var l coordv1.Lease
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &l); err != nil {
		return nil, err
	}
	return &l, nil
}
