package binding

import (
	"errors"
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
		{"permanent error", 0, permanentf("not a CloudEvent"), DeadLetter},
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
		{"negative retries", RetryPolicy{MaxRetries: -1, Multiplier: 1}, false},
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
