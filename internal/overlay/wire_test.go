package overlay

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func roundTrip(t *testing.T, r *Result, err error) (*Result, error) {
	t.Helper()
	var buf bytes.Buffer
	if werr := WriteOutcome(&buf, r, err); werr != nil {
		t.Fatal(werr)
	}
	got, renderErr, rerr := ReadOutcome(&buf)
	if rerr != nil {
		t.Fatal(rerr)
	}
	return got, renderErr
}

func TestOutcomeCarriesEveryFieldOfAResult(t *testing.T) {
	r, err := Render(context.Background(), memTree(t, smallApp("debug")), "/repo/envs/dev", Options{})
	if err != nil {
		t.Fatal(err)
	}
	// wrote and Remote decide whether the parent caches the result.
	r.wrote, r.Remote = true, []string{"https://example.com/base"}
	got, gotErr := roundTrip(t, r, nil)
	if gotErr != nil {
		t.Fatal(gotErr)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("round trip changed the result:\n got %+v\nwant %+v", got, r)
	}
}

func TestOutcomeKeepsTheErrorsTypeAndMessage(t *testing.T) {
	_, renderErr := Render(context.Background(), memTree(t, map[string]string{
		"/r/kustomization.yaml": "resources: [missing.yaml]\n",
	}), "/r", Options{})
	if renderErr == nil {
		t.Fatal("a missing resource rendered")
	}
	for _, want := range []error{
		renderErr,
		&Error{Dir: "/r", File: "/r/kustomization.yaml", Remote: []string{"git@example.com:x"}, Err: errors.New("boom")},
		&Error{Dir: "/r", Cause: &Cause{File: "/r/kustomization.yaml", Field: "patches[0]", Problem: `file "p.yaml" does not exist`}, Err: errors.New("boom")},
		&RemoteTimeoutError{Dir: "/r", URL: "https://example.com/x", Timeout: 3 * time.Second},
		context.Canceled,
		context.DeadlineExceeded,
		errors.New("something else"),
	} {
		_, got := roundTrip(t, nil, want)
		if got == nil || got.Error() != want.Error() {
			t.Errorf("round trip of %q gave %v", want, got)
			continue
		}
		if reflect.TypeOf(got) != reflect.TypeOf(want) && !errors.Is(got, want) {
			t.Errorf("round trip of %T gave a %T", want, got)
		}
	}
}

func TestReadOutcomeRejectsGarbage(t *testing.T) {
	if _, _, err := ReadOutcome(bytes.NewReader([]byte("not gob"))); err == nil {
		t.Error("garbage decoded")
	}
	if err := WriteOutcome(&bytes.Buffer{}, nil, nil); err == nil {
		t.Error("an outcome with neither result nor error was written")
	}
}
