package activator

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFail(t *testing.T) {
	buildErr := errors.New("build fn: undefined: x")
	tests := []struct {
		name      string
		opts      Options
		running   bool // an instance runs when the function fails
		wantState string
		wantErr   bool // Acquire fails
	}{
		{name: "no instance", opts: Options{Idle: time.Hour}, wantState: "failed", wantErr: true},
		{name: "running instance keeps serving", opts: Options{Idle: time.Hour}, running: true, wantState: "failed"},
		{name: "min scale", opts: Options{MinScale: 1, Idle: time.Hour}, running: true, wantState: "failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &fakeStarter{}
			a := newActivator(t, s, tt.opts)
			if tt.running && tt.opts.MinScale == 0 {
				_, release, err := a.Acquire(t.Context(), "fn", Request)
				if err != nil {
					t.Fatal(err)
				}
				release(false)
			}
			starts := s.starts.Load()
			if err := a.Fail("fn", buildErr); err != nil {
				t.Fatal(err)
			}
			st := a.Status()[0]
			if st.State != tt.wantState || st.Error != buildErr.Error() {
				t.Errorf("got state %q error %q, want %q %q", st.State, st.Error, tt.wantState, buildErr)
			}
			_, release, err := a.Acquire(t.Context(), "fn", Request)
			if tt.wantErr != (err != nil) {
				t.Fatalf("got error %v, want an error: %v", err, tt.wantErr)
			}
			if err != nil && (!errors.Is(err, ErrStartFailed) || !errors.Is(err, buildErr)) {
				t.Errorf("got error %v, want ErrStartFailed and the build error", err)
			}
			if release != nil {
				release(false)
			}
			if got := s.starts.Load(); got != starts {
				t.Errorf("got %d starts after Fail, want %d: a failed function is not started", got, starts)
			}

			if _, err := a.Recycle("fn"); err != nil {
				t.Fatal(err)
			}
			_, release, err = a.Acquire(t.Context(), "fn", Request)
			if err != nil {
				t.Fatalf("after Recycle: got error %v, want a new instance", err)
			}
			release(false)
			if st := a.Status()[0]; st.State != "running" || st.Error != "" {
				t.Errorf("after Recycle: got state %q error %q, want running", st.State, st.Error)
			}
		})
	}
}

func TestFailedFunctionSkipsMinScaleAtStart(t *testing.T) {
	s := &fakeStarter{}
	a := New(nil)
	if err := a.Add("fn", s.start, Options{MinScale: 2}); err != nil {
		t.Fatal(err)
	}
	if err := a.Fail("fn", errors.New("does not compile")); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	if n := s.starts.Load(); n != 0 {
		t.Errorf("got %d starts, want none for a failed function", n)
	}
}

func TestMinScaleStartFailureIsReported(t *testing.T) {
	s := &fakeStarter{}
	s.fail.Store(true)
	a := New(nil)
	if err := a.Add("fn", s.start, Options{MinScale: 1}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	if err := a.Start(t.Context()); err == nil || !strings.Contains(err.Error(), "min-scale instance: exit status 1") {
		t.Fatalf("got %v, want the start failure", err)
	}
	if st := a.Status()[0]; st.State != "failed" || st.Error == "" {
		t.Errorf("got state %q error %q, want failed with the cause", st.State, st.Error)
	}
}

func TestAddAndRemoveAfterStart(t *testing.T) {
	a := newActivator(t, &fakeStarter{}, Options{})
	late := &fakeStarter{}
	if err := a.Add("late", late.start, Options{MinScale: 1, Idle: time.Hour}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the min-scale instance of a function added after Start", func() bool {
		st := a.Status()
		return len(st) == 2 && st[1].Function == "late" && st[1].Instances == 1
	})
	if err := a.Remove(t.Context(), "late"); err != nil {
		t.Fatal(err)
	}
	late.mu.Lock()
	stopped := late.started[0].stopped.Load()
	late.mu.Unlock()
	if !stopped {
		t.Error("Remove left the instance running")
	}
	if _, _, err := a.Acquire(t.Context(), "late", Request); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("got %v after Remove, want ErrUnknownFunction", err)
	}
	if st := a.Status(); len(st) != 1 || st[0].Function != "fn" {
		t.Errorf("got status %+v, want only fn", st)
	}
	if err := a.Remove(t.Context(), "late"); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("second Remove: got %v, want ErrUnknownFunction", err)
	}
}
