package subscriptions

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

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
			srv, got := function(t, "", http.StatusServiceUnavailable)
			retry := &resources.Retry{Policy: resources.RetryConstant, Duration: time.Millisecond, MaxRetries: tt.retries}
			_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}, Resiliency: inbound(retry, 0, nil)},
				resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
			if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil {
				t.Fatalf("handler = %v, want nil (dead-lettered)", err)
			}
			if len(*got) != tt.wantCalls {
				t.Errorf("function called %d times, want %d", len(*got), tt.wantCalls)
			}
			if n := len(ps.publishedOn("dlq")); n != 1 {
				t.Errorf("dead letters = %d, want 1", n)
			}
		})
	}
}

func TestResiliencyTimeoutPerAttempt(t *testing.T) {
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // lets the server notice the client giving up
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	retry := &resources.Retry{Policy: resources.RetryConstant, Duration: time.Millisecond, MaxRetries: 1}
	_, ps := start(t, Config{Target: staticTarget{"order-processor": slow.URL}, Resiliency: inbound(retry, 50*time.Millisecond, nil)},
		resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
	began := time.Now()
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil {
		t.Fatalf("handler = %v, want nil (dead-lettered)", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("took %v, want two 50ms attempts", took)
	}
	if n := len(ps.publishedOn("dlq")); n != 1 {
		t.Errorf("dead letters = %d, want 1", n)
	}
}

func TestCircuitBreaker(t *testing.T) {
	srv, got := function(t, "", 500, 500, 200)
	noRetry := &resources.Retry{Policy: resources.RetryConstant, Duration: time.Millisecond, MaxRetries: 0}
	cb := &resources.CircuitBreaker{Trip: "consecutiveFailures > 1", Timeout: 200 * time.Millisecond}
	b, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}, Resiliency: inbound(noRetry, 0, cb)},
		resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
	data := envelope(t, "application/json", []byte(order))
	for i := range 2 {
		if err := deliver(t, ps, data); err != nil {
			t.Fatalf("delivery %d = %v, want nil (dead-lettered)", i+1, err)
		}
	}
	if state := b.subs[0].policies["order-processor"].Breaker.State(); state != "open" {
		t.Fatalf("breaker is %s after 2 failures, want open (trip: consecutiveFailures > 1)", state)
	}
	err := deliver(t, ps, data)
	if !errors.Is(err, delivery.ErrCircuitOpen) {
		t.Errorf("delivery while open = %v, want delivery.ErrCircuitOpen (handed back to the broker)", err)
	}
	if len(*got) != 2 || len(ps.publishedOn("dlq")) != 2 {
		t.Errorf("while open: %d calls, %d dead letters, want 2 and 2 (no call, no dead letter)", len(*got), len(ps.publishedOn("dlq")))
	}
	time.Sleep(250 * time.Millisecond) // half-open after the breaker's timeout
	if err := deliver(t, ps, data); err != nil {
		t.Errorf("delivery after timeout = %v, want nil (half-open lets one through, 200)", err)
	}
	if state := b.subs[0].policies["order-processor"].Breaker.State(); state != "closed" {
		t.Errorf("breaker is %s after a success, want closed", state)
	}
}

func TestUnlimitedRetriesAreHandedBackToTheBroker(t *testing.T) {
	srv, got := function(t, "", http.StatusServiceUnavailable)
	d := delivery.NewDeliverer(staticTarget{"f": srv.URL}, nil, nil)
	pol := delivery.Policy{Timeout: time.Second, Retry: delivery.RetryPolicy{MaxRetries: delivery.UnlimitedRetries, Initial: time.Millisecond,
		Max: time.Millisecond, Multiplier: 1, MaxElapsed: 50 * time.Millisecond}}
	ev := mustEvent(t)
	a := d.Deliver(context.Background(), "f", &ev, pol)
	if a.Outcome != delivery.Requeue || a.Attempts < 2 || len(*got) != a.Attempts {
		t.Errorf("got outcome %v after %d attempts (%d calls), want requeue after several", a.Outcome, a.Attempts, len(*got))
	}
	if a.Status != http.StatusServiceUnavailable {
		t.Errorf("got status %d, want the last answer 503", a.Status)
	}
}

func TestUnlimitedRetriesAreNeverDeadLettered(t *testing.T) {
	srv, _ := function(t, "", http.StatusServiceUnavailable)
	retry := delivery.RetryPolicy{MaxRetries: delivery.UnlimitedRetries, Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1, MaxElapsed: 20 * time.Millisecond}
	_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}, Retry: retry},
		resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err == nil {
		t.Error("handler = nil, want an error: the broker delivers it again")
	}
	if n := len(ps.publishedOn("dlq")); n != 0 {
		t.Errorf("dead letters = %d, want 0", n)
	}
}
