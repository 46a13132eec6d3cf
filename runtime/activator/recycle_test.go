package activator

import (
	"context"
	"testing"
	"time"
)

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRecycleIdleInstance(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Idle: time.Hour})
	url, release, err := a.Acquire(t.Context(), "fn", Request)
	if err != nil {
		t.Fatal(err)
	}
	release(false)
	if n, err := a.Recycle("fn"); n != 1 || err != nil {
		t.Fatalf("Recycle: %d, %v; want 1 instance replaced", n, err)
	}
	eventually(t, "the replaced instance to stop", s.started[0].stopped.Load)
	if st := a.Status()[0]; st.State != "zero" || st.Instances != 0 {
		t.Errorf("after recycle: %+v, want zero instances until the next request", st)
	}
	url2, release2, err := a.Acquire(t.Context(), "fn", Request)
	if err != nil {
		t.Fatal(err)
	}
	release2(false)
	if url2 == url || s.starts.Load() != 2 {
		t.Errorf("next request went to %s (starts %d), want a new instance", url2, s.starts.Load())
	}
}

func TestRecycleWaitsForRequestsInFlight(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Idle: time.Hour})
	url, release, err := a.Acquire(t.Context(), "fn", Request)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Recycle("fn"); err != nil {
		t.Fatal(err)
	}
	url2, release2, err := a.Acquire(t.Context(), "fn", Delivery)
	if err != nil {
		t.Fatal(err)
	}
	defer release2(false)
	if url2 == url {
		t.Fatal("a request after Recycle went to the replaced instance")
	}
	if st := a.Status()[0]; st.InFlight != 2 {
		t.Errorf("in flight: %d, want 2 (one on the replaced instance)", st.InFlight)
	}
	time.Sleep(20 * time.Millisecond)
	if s.started[0].stopped.Load() {
		t.Fatal("the replaced instance stopped while a request was in flight")
	}
	release(false)
	eventually(t, "the replaced instance to stop after its last request", s.started[0].stopped.Load)
}

func TestRecycleRestartsMinScale(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Idle: time.Hour, MinScale: 1})
	if _, err := a.Recycle("fn"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a new min-scale instance", func() bool { return s.starts.Load() == 2 && a.Status()[0].Instances == 1 })
	eventually(t, "the replaced instance to stop", s.started[0].stopped.Load)
}

func TestStopEndsReplacedInstancesInFlight(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Idle: time.Hour})
	_, release, err := a.Acquire(t.Context(), "fn", Request)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Recycle("fn"); err != nil {
		t.Fatal(err)
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !s.started[0].stopped.Load() {
		t.Error("Stop left a replaced instance with a request in flight running")
	}
	release(false) // after Stop: must not stop it twice or panic
}

func TestRecycleUnknownFunction(t *testing.T) {
	a := newActivator(t, &fakeStarter{}, Options{})
	if _, err := a.Recycle("nope"); err == nil {
		t.Error("Recycle of an unknown function: got nil error")
	}
}

func TestUpdateOptions(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Idle: time.Hour})
	if err := a.Update("fn", Options{Idle: time.Hour, MinScale: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Recycle("fn"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new min-scale instance", func() bool { return a.Status()[0].Instances == 1 })
	if err := a.Update("fn", Options{MinScale: 3, MaxScale: 1}); err == nil {
		t.Error("Update with min-scale above max-scale: got nil error")
	}
	if err := a.Update("nope", Options{}); err == nil {
		t.Error("Update of an unknown function: got nil error")
	}
}
