package activator

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeInstance is an httptest server standing in for a function process.
type fakeInstance struct {
	srv     *httptest.Server
	stopped atomic.Bool
}

func (f *fakeInstance) URL() string { return f.srv.URL }
func (f *fakeInstance) Stop(context.Context) error {
	f.stopped.Store(true)
	f.srv.Close()
	return nil
}

// fakeStarter counts starts and can delay or fail them.
type fakeStarter struct {
	delay   time.Duration
	fail    atomic.Bool
	starts  atomic.Int32
	mu      sync.Mutex
	started []*fakeInstance
}

func (s *fakeStarter) start(ctx context.Context) (Instance, error) {
	s.starts.Add(1)
	time.Sleep(s.delay)
	if s.fail.Load() {
		return nil, errors.New("exit status 1")
	}
	inst := &fakeInstance{srv: httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))}
	s.mu.Lock()
	s.started = append(s.started, inst)
	s.mu.Unlock()
	return inst, nil
}

func newActivator(t *testing.T, s *fakeStarter, opts Options) *Activator {
	t.Helper()
	a := New(nil)
	if err := a.Add("fn", s.start, opts); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Stop(context.Background()) })
	return a
}

func TestColdStartThenScaleToZero(t *testing.T) {
	s := &fakeStarter{delay: 20 * time.Millisecond}
	a := newActivator(t, s, Options{Idle: 100 * time.Millisecond})
	if st := a.Status()[0]; st.State != "zero" {
		t.Fatalf("state before any request = %q, want zero", st.State)
	}
	url, release, err := a.Acquire(t.Context(), "fn", Request)
	if err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Get(url); err != nil {
		t.Fatalf("instance not reachable: %v", err)
	} else {
		resp.Body.Close()
	}
	release(false)
	st := a.Status()[0]
	if st.State != "running" || st.ColdStarts != 1 || st.Requests != 1 || st.ColdStartP50 < 20*time.Millisecond {
		t.Fatalf("after one request: %+v, want running, 1 cold start >= 20ms, 1 request", st)
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Status()[0].State != "zero" {
		if time.Now().After(deadline) {
			t.Fatal("instance not stopped 5s after the 100ms idle window")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The reaper takes the instance out of the pool, then stops it.
	eventually(t, "the idle instance to stop", s.started[0].stopped.Load)
	if _, release, err = a.Acquire(t.Context(), "fn", Delivery); err != nil {
		t.Fatalf("acquire after scale to zero: %v", err)
	}
	release(true)
	if st := a.Status()[0]; st.ColdStarts != 2 || st.Deliveries != 1 || st.Failures != 1 {
		t.Errorf("after a second cold start: %+v, want 2 cold starts, 1 delivery, 1 failure", st)
	}
}

func TestBurstDuringColdStartStartsOnce(t *testing.T) {
	s := &fakeStarter{delay: 100 * time.Millisecond}
	a := newActivator(t, s, Options{})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, release, err := a.Acquire(t.Context(), "fn", Request)
			if err != nil {
				failed.Add(1)
				return
			}
			release(false)
		}()
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 200 requests failed, want 0", n)
	}
	if n := s.starts.Load(); n != 1 {
		t.Errorf("instances started = %d, want 1 (concurrency unlimited)", n)
	}
}

func TestConcurrencyScalesOutUpToMax(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{Concurrency: 1, MaxScale: 3, QueueTimeout: 200 * time.Millisecond})
	var releases []func(bool)
	for i := range 3 {
		_, release, err := a.Acquire(t.Context(), "fn", Request)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		releases = append(releases, release)
	}
	if st := a.Status()[0]; st.Instances != 3 || st.InFlight != 3 {
		t.Fatalf("status = %+v, want 3 instances with 1 in flight each", st)
	}
	if _, _, err := a.Acquire(t.Context(), "fn", Request); !errors.Is(err, ErrOverloaded) {
		t.Errorf("4th request at max scale = %v, want ErrOverloaded after the queue timeout", err)
	}
	releases[0](false)
	if _, release, err := a.Acquire(t.Context(), "fn", Request); err != nil {
		t.Errorf("request after a release = %v, want an instance", err)
	} else {
		release(false)
	}
}

func TestQueueFull(t *testing.T) {
	s := &fakeStarter{delay: 200 * time.Millisecond}
	a := newActivator(t, s, Options{QueueSize: 1})
	done := make(chan error, 1)
	go func() {
		_, release, err := a.Acquire(t.Context(), "fn", Request)
		if err == nil {
			release(false)
		}
		done <- err
	}()
	eventually(t, "the first caller to wait for the start", func() bool { return a.Status()[0].Waiting == 1 })
	if _, _, err := a.Acquire(t.Context(), "fn", Request); !errors.Is(err, ErrOverloaded) {
		t.Errorf("second waiter with queue size 1 = %v, want ErrOverloaded", err)
	}
	if err := <-done; err != nil {
		t.Errorf("first waiter = %v, want an instance", err)
	}
}

func TestStartFailureReachesWaiters(t *testing.T) {
	s := &fakeStarter{delay: 10 * time.Millisecond}
	s.fail.Store(true)
	a := newActivator(t, s, Options{})
	if _, _, err := a.Acquire(t.Context(), "fn", Request); !errors.Is(err, ErrStartFailed) {
		t.Fatalf("acquire with a failing start = %v, want ErrStartFailed", err)
	}
	s.fail.Store(false)
	if _, release, err := a.Acquire(t.Context(), "fn", Request); err != nil {
		t.Errorf("acquire after the function was fixed = %v, want a new start", err)
	} else {
		release(false)
	}
}

func TestMinScaleNeverStops(t *testing.T) {
	s := &fakeStarter{}
	a := newActivator(t, s, Options{MinScale: 1, Idle: time.Millisecond})
	time.Sleep(200 * time.Millisecond)
	if st := a.Status()[0]; st.Instances != 1 {
		t.Errorf("instances with min scale 1 after idle = %d, want 1", st.Instances)
	}
}

func TestUnknownFunctionAndStopped(t *testing.T) {
	a := newActivator(t, &fakeStarter{}, Options{})
	if _, _, err := a.Acquire(t.Context(), "nope", Request); !errors.Is(err, ErrUnknownFunction) {
		t.Errorf("unknown function = %v, want ErrUnknownFunction", err)
	}
	if err := a.Stop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.Acquire(t.Context(), "fn", Request); !errors.Is(err, ErrStopped) {
		t.Errorf("after Stop = %v, want ErrStopped", err)
	}
}

func TestFromAnnotations(t *testing.T) {
	tests := []struct {
		name    string
		ann     map[string]string
		want    Options
		wantErr bool
	}{
		{"none", nil, Options{}.withDefaults(), false},
		{"retention", map[string]string{AnnotationRetention: "5s"}, func() Options { o := Options{}.withDefaults(); o.Idle = 5 * time.Second; return o }(), false},
		{"min and max", map[string]string{AnnotationMinScale: "1", AnnotationMaxScale: "2"}, func() Options { o := Options{}.withDefaults(); o.MinScale, o.MaxScale = 1, 2; return o }(), false},
		{"bad retention", map[string]string{AnnotationRetention: "soon"}, Options{}, true},
		{"negative min", map[string]string{AnnotationMinScale: "-1"}, Options{}, true},
		{"min above max", map[string]string{AnnotationMinScale: "3", AnnotationMaxScale: "2"}, Options{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Options{}.FromAnnotations(tt.ann)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{5, 1, 4, 2, 3}
	if got := percentile(d, 0.5); got != 3 {
		t.Errorf("p50 = %v, want 3", got)
	}
	if got := percentile(d, 0.99); got != 5 {
		t.Errorf("p99 = %v, want 5", got)
	}
	if got := percentile(nil, 0.5); got != 0 {
		t.Errorf("p50 of nothing = %v, want 0", got)
	}
}
