package deploy

import (
	"context"
	"sync"

	"github.com/envctl/envctl/internal/drift"
)

// Warning is a warning the API server sent about an object it was
// given: a deprecated API, a PodSecurity level the pod template would
// violate, an unknown field it dropped.
type Warning struct {
	ID      drift.ObjectID
	Message string
}

type objectKey struct{}

// withObject tags ctx with the object a request is about, so that the
// server's warnings for it can be attributed.
func withObject(ctx context.Context, id drift.ObjectID) context.Context {
	return context.WithValue(ctx, objectKey{}, id)
}

// warnings collects the server's warnings (client-go's default logs them
// through klog, in its own format, as they come), once per object and
// message.
type warnings struct {
	mu   sync.Mutex
	seen map[Warning]bool
	list []Warning
}

// HandleWarningHeaderWithContext implements rest.WarningHandlerWithContext.
func (w *warnings) HandleWarningHeaderWithContext(ctx context.Context, code int, _ string, message string) {
	if code != 299 || message == "" {
		return
	}
	id, _ := ctx.Value(objectKey{}).(drift.ObjectID)
	wn := Warning{ID: id, Message: message}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen == nil {
		w.seen = map[Warning]bool{}
	}
	if !w.seen[wn] {
		w.seen[wn] = true
		w.list = append(w.list, wn)
	}
}

func (w *warnings) all() []Warning {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Warning(nil), w.list...)
}
