package delivery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name   string
		status int
		err    error
		want   Outcome
	}{
		{"200", http.StatusOK, nil, Ack},
		{"202", http.StatusAccepted, nil, Ack},
		{"204", http.StatusNoContent, nil, Ack},
		{"400", http.StatusBadRequest, nil, DeadLetter},
		{"403", http.StatusForbidden, nil, DeadLetter},
		{"413", http.StatusRequestEntityTooLarge, nil, DeadLetter},
		{"415", http.StatusUnsupportedMediaType, nil, DeadLetter},
		{"422", http.StatusUnprocessableEntity, nil, DeadLetter},
		{"404", http.StatusNotFound, nil, Retry},
		{"408", http.StatusRequestTimeout, nil, Retry},
		{"409", http.StatusConflict, nil, Retry},
		{"429", http.StatusTooManyRequests, nil, Retry},
		{"500", http.StatusInternalServerError, nil, Retry},
		{"503", http.StatusServiceUnavailable, nil, Retry},
		{"302", http.StatusFound, nil, Retry},
		{"transport error", 0, errors.New("connection refused"), Retry},
		{"permanent error", 0, Permanentf("not a CloudEvent"), DeadLetter},
		{"wrapped permanent error", 0, fmt.Errorf("deliver: %w", Permanentf("bad")), DeadLetter},
		{"circuit open", 0, fmt.Errorf("%w: cb: open", ErrCircuitOpen), Requeue},
		{"stopping", 0, ErrStopping, Requeue},
		{"timeout", 0, context.DeadlineExceeded, Retry},
		{"2xx body is never read", http.StatusOK, nil, Ack},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.status, tt.err); got != tt.want {
				t.Errorf("Classify(%d, %v) = %v, want %v", tt.status, tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryPolicyBackoff(t *testing.T) {
	p := RetryPolicy{MaxRetries: 5, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := p.Backoff(i + 1); got != w*time.Millisecond {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	p.Jitter = 0.2
	for range 100 {
		if got := p.Backoff(1); got < 80*time.Millisecond || got > 120*time.Millisecond {
			t.Fatalf("jittered Backoff(1) = %v, want within 100ms ±20%%", got)
		}
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    RetryPolicy
		ok   bool
	}{
		{"default", DefaultRetryPolicy, true},
		{"no retries", RetryPolicy{Multiplier: 1}, true},
		{"unlimited", RetryPolicy{MaxRetries: UnlimitedRetries, Initial: 1, Max: 1, Multiplier: 1}, true},
		{"unlimited without backoff", RetryPolicy{MaxRetries: UnlimitedRetries, Multiplier: 1}, false},
		{"below unlimited", RetryPolicy{MaxRetries: -2, Initial: 1, Max: 1, Multiplier: 1}, false},
		{"negative MaxElapsed", RetryPolicy{MaxRetries: 1, Initial: 1, Max: 1, Multiplier: 1, MaxElapsed: -1}, false},
		{"zero initial", RetryPolicy{MaxRetries: 1, Max: time.Second, Multiplier: 2}, false},
		{"max below initial", RetryPolicy{MaxRetries: 1, Initial: time.Second, Max: time.Millisecond, Multiplier: 2}, false},
		{"multiplier below 1", RetryPolicy{MaxRetries: 1, Initial: 1, Max: 1, Multiplier: 0.5}, false},
		{"jitter above 1", RetryPolicy{MaxRetries: 1, Initial: 1, Max: 1, Multiplier: 1, Jitter: 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.p.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestRetryPolicyNext(t *testing.T) {
	limited := RetryPolicy{MaxRetries: 2, Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1}
	unlimited := RetryPolicy{MaxRetries: UnlimitedRetries, Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1}
	tests := []struct {
		name    string
		p       RetryPolicy
		n       int
		elapsed time.Duration
		want    bool
	}{
		{"within count", limited, 2, time.Hour, true},
		{"count spent", limited, 3, 0, false},
		{"unlimited within default window", unlimited, 1000, DefaultMaxElapsed - time.Second, true},
		{"unlimited past default window", unlimited, 2, DefaultMaxElapsed, false},
		{"unlimited past own window", RetryPolicy{MaxRetries: -1, Initial: 1, Max: 1, Multiplier: 1, MaxElapsed: time.Second}, 2, time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, got := tt.p.Next(tt.n, tt.elapsed); got != tt.want {
				t.Errorf("next(%d, %v) = %v, want %v", tt.n, tt.elapsed, got, tt.want)
			}
		})
	}
}

func TestOutcomeString(t *testing.T) {
	for o, want := range map[Outcome]string{Ack: "ack", Retry: "retry", DeadLetter: "dead-letter", Requeue: "requeue", Outcome(9): "outcome(9)"} {
		if got := o.String(); got != want {
			t.Errorf("Outcome(%d).String() = %q, want %q", int(o), got, want)
		}
	}
}
