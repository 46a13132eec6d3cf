package subscriptions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// The tests here run in a testing/synctest bubble: retry waits,
// per-attempt timeouts and a circuit breaker's open timeout (gobreaker
// reads time.Now) pass on the bubble's fake clock, so they take no real
// time and the durations they assert are exact. Functions answer over
// pipeServer's in-memory network.

// inbound is a Resiliency resource targeting orderpubsub's inbound side.
func inbound(retry *resources.Retry, timeout time.Duration, cb *resources.CircuitBreaker) []resources.Resiliency {
	r := resources.Resiliency{Name: "r", File: "r.yaml", Timeouts: map[string]time.Duration{},
		Retries: map[string]resources.Retry{}, CircuitBreakers: map[string]resources.CircuitBreaker{}}
	var names resources.PolicyNames
	if retry != nil {
		r.Retries["retry"], names.Retry = *retry, "retry"
	}
	if timeout > 0 {
		r.Timeouts["timeout"], names.Timeout = timeout, "timeout"
	}
	if cb != nil {
		r.CircuitBreakers["cb"], names.CircuitBreaker = *cb, "cb"
	}
	r.Components = map[string]resources.ComponentPolicies{"orderpubsub": {Inbound: names}}
	return []resources.Resiliency{r}
}

// pipeFunction is function's server on pipeServer's network: the client
// to deliver with, the URL and what the function saw.
func pipeFunction(t *testing.T, statuses ...int) (*http.Client, string, *[]received) {
	t.Helper()
	h, got := functionHandler("", statuses...)
	client, url := pipeServer(t, h)
	return client, url, got
}

func TestResiliencyRetryIsHonoured(t *testing.T) {
	tests := []struct {
		name      string
		retries   int
		wantCalls int
	}{
		{"two retries", 2, 3},
		{"no retry", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				client, url, got := pipeFunction(t, http.StatusServiceUnavailable)
				retry := &resources.Retry{Policy: resources.RetryConstant, Duration: 5 * time.Second, MaxRetries: tt.retries}
				_, ps := start(t, Config{Transport: client.Transport, Target: staticTarget{"order-processor": url}, Resiliency: inbound(retry, 0, nil)},
					resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
				began := time.Now()
				if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil {
					t.Fatalf("handler = %v, want nil (dead-lettered)", err)
				}
				if took, want := time.Since(began), time.Duration(tt.retries)*retry.Duration; took != want {
					t.Errorf("delivery took %v, want %v (%d waits of the constant %v)", took, want, tt.retries, retry.Duration)
				}
				if len(*got) != tt.wantCalls {
					t.Errorf("function called %d times, want %d", len(*got), tt.wantCalls)
				}
				if n := len(ps.publishedOn("dlq")); n != 1 {
					t.Errorf("dead letters = %d, want 1", n)
				}
			})
		})
	}
}

func TestResiliencyTimeoutPerAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		client, url := pipeServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client giving up
			select {
			case <-time.After(time.Minute):
			case <-r.Context().Done():
			}
		}))
		retry := &resources.Retry{Policy: resources.RetryConstant, Duration: time.Second, MaxRetries: 1}
		const timeout = 3 * time.Second
		_, ps := start(t, Config{Transport: client.Transport, Target: staticTarget{"order-processor": url}, Resiliency: inbound(retry, timeout, nil)},
			resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
		began := time.Now()
		if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil {
			t.Fatalf("handler = %v, want nil (dead-lettered)", err)
		}
		if took, want := time.Since(began), 2*timeout+retry.Duration; took != want {
			t.Errorf("took %v, want %v: two attempts cut at the %v timeout, %v apart", took, want, timeout, retry.Duration)
		}
		if n := calls.Load(); n != 2 {
			t.Errorf("function called %d times, want 2", n)
		}
		if n := len(ps.publishedOn("dlq")); n != 1 {
			t.Errorf("dead letters = %d, want 1", n)
		}
	})
}

func TestCircuitBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, url, got := pipeFunction(t, 500, 500, 200)
		noRetry := &resources.Retry{Policy: resources.RetryConstant, Duration: time.Millisecond, MaxRetries: 0}
		cb := &resources.CircuitBreaker{Trip: "consecutiveFailures > 1", Timeout: 30 * time.Second}
		b, ps := start(t, Config{Transport: client.Transport, Target: staticTarget{"order-processor": url}, Resiliency: inbound(noRetry, 0, cb)},
			resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
		breaker := b.subs[0].policies["order-processor"].Breaker
		data := envelope(t, "application/json", []byte(order))
		for i := range 2 {
			if err := deliver(t, ps, data); err != nil {
				t.Fatalf("delivery %d = %v, want nil (dead-lettered)", i+1, err)
			}
		}
		if state := breaker.State(); state != "open" {
			t.Fatalf("breaker is %s after 2 failures, want open (trip: consecutiveFailures > 1)", state)
		}
		err := deliver(t, ps, data)
		if !errors.Is(err, delivery.ErrCircuitOpen) {
			t.Errorf("delivery while open = %v, want delivery.ErrCircuitOpen (handed back to the broker)", err)
		}
		if len(*got) != 2 || len(ps.publishedOn("dlq")) != 2 {
			t.Errorf("while open: %d calls, %d dead letters, want 2 and 2 (no call, no dead letter)", len(*got), len(ps.publishedOn("dlq")))
		}
		time.Sleep(cb.Timeout - time.Millisecond)
		if state := breaker.State(); state != "open" {
			t.Errorf("breaker is %s just before its %v timeout, want open", state, cb.Timeout)
		}
		if err := deliver(t, ps, data); !errors.Is(err, delivery.ErrCircuitOpen) {
			t.Errorf("delivery just before the timeout = %v, want delivery.ErrCircuitOpen", err)
		}
		time.Sleep(2 * time.Millisecond)
		if state := breaker.State(); state != "half-open" {
			t.Errorf("breaker is %s after its %v timeout, want half-open", state, cb.Timeout)
		}
		if err := deliver(t, ps, data); err != nil {
			t.Errorf("delivery after timeout = %v, want nil (half-open lets one through, 200)", err)
		}
		if state := breaker.State(); state != "closed" {
			t.Errorf("breaker is %s after a success, want closed", state)
		}
		if len(*got) != 3 || len(ps.publishedOn("dlq")) != 2 {
			t.Errorf("in all: %d calls, %d dead letters, want 3 and 2", len(*got), len(ps.publishedOn("dlq")))
		}
	})
}

// With unlimited retries 1ms apart and MaxElapsed 50ms, attempt k starts
// at (k-1)ms, and a retry is made while it would start before 50ms: 50
// attempts, the last at 49ms.
func TestUnlimitedRetriesAreHandedBackToTheBroker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, url, got := pipeFunction(t, http.StatusServiceUnavailable)
		d := delivery.NewDeliverer(staticTarget{"f": url}, client.Transport, nil)
		pol := delivery.Policy{Timeout: time.Second, Retry: delivery.RetryPolicy{MaxRetries: delivery.UnlimitedRetries, Initial: time.Millisecond,
			Max: time.Millisecond, Multiplier: 1, MaxElapsed: 50 * time.Millisecond}}
		ev := mustEvent(t)
		began := time.Now()
		a := d.Deliver(context.Background(), "f", &ev, pol)
		if a.Outcome != delivery.Requeue || a.Attempts != 50 || len(*got) != a.Attempts {
			t.Errorf("got outcome %v after %d attempts (%d calls), want requeue after 50", a.Outcome, a.Attempts, len(*got))
		}
		if took := time.Since(began); took != 49*time.Millisecond {
			t.Errorf("retried for %v, want 49ms (the last attempt starts before MaxElapsed)", took)
		}
		if a.Status != http.StatusServiceUnavailable {
			t.Errorf("got status %d, want the last answer 503", a.Status)
		}
	})
}

func TestUnlimitedRetriesAreNeverDeadLettered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		client, url, got := pipeFunction(t, http.StatusServiceUnavailable)
		retry := delivery.RetryPolicy{MaxRetries: delivery.UnlimitedRetries, Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1, MaxElapsed: 20 * time.Millisecond}
		_, ps := start(t, Config{Transport: client.Transport, Target: staticTarget{"order-processor": url}, Retry: retry},
			resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
		if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err == nil {
			t.Error("handler = nil, want an error: the broker delivers it again")
		}
		if n := len(*got); n != 20 {
			t.Errorf("function called %d times, want 20 (1ms apart, until MaxElapsed 20ms)", n)
		}
		if n := len(ps.publishedOn("dlq")); n != 0 {
			t.Errorf("dead letters = %d, want 0", n)
		}
	})
}
