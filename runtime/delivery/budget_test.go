package delivery

import (
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

func TestBudget(t *testing.T) {
	tests := []struct {
		name string
		pol  Policy
		want time.Duration
	}{
		{"no retries", Policy{Timeout: 10 * time.Second}, 10 * time.Second},
		{"constant", Policy{Timeout: time.Second, Retry: RetryPolicy{MaxRetries: 3, Initial: time.Second, Max: time.Second, Multiplier: 1}}, 4*time.Second + 3*time.Second},
		// 100ms, 200ms, 400ms, 800ms, 1.6s, each up to +20%.
		{"default", Policy{Timeout: DefaultTimeout, Retry: DefaultRetryPolicy}, 6*DefaultTimeout + 3720*time.Millisecond},
		// Dapr exponential with maxInterval 2s: 500ms, 750ms, 1.125s,
		// 1.6875s, then 2s, each up to +50%.
		{"dapr exponential", Policy{Timeout: 30 * time.Second, Retry: FromDapr(resources.Retry{Policy: resources.RetryExponential, MaxInterval: 2 * time.Second, MaxRetries: 5})},
			180*time.Second + 9093750*time.Microsecond},
		{"capped early", Policy{Timeout: time.Second, Retry: RetryPolicy{MaxRetries: 4, Initial: time.Second, Max: 2 * time.Second, Multiplier: 4}}, 5*time.Second + 7*time.Second},
		{"unlimited", Policy{Timeout: 3 * time.Second, Retry: RetryPolicy{MaxRetries: UnlimitedRetries, Initial: time.Second, Max: time.Second, Multiplier: 1}}, DefaultMaxElapsed + 3*time.Second},
		{"unlimited with MaxElapsed", Policy{Timeout: 3 * time.Second, Retry: RetryPolicy{MaxRetries: UnlimitedRetries, Initial: time.Second, Max: time.Second, Multiplier: 1, MaxElapsed: 5 * time.Second}}, 8 * time.Second},
		{"saturates", Policy{Timeout: time.Hour, Retry: RetryPolicy{MaxRetries: 1 << 30, Initial: time.Hour, Max: time.Hour, Multiplier: 1}}, 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.pol.Budget(); got != tt.want {
				t.Errorf("Budget() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBudgetBoundsBackoff: no jittered wait exceeds what MaxBackoff counts.
func TestBudgetBoundsBackoff(t *testing.T) {
	for _, p := range []RetryPolicy{DefaultRetryPolicy, FromDapr(resources.Retry{Policy: resources.RetryExponential, MaxInterval: 2 * time.Second, MaxRetries: 5})} {
		for range 1000 {
			var sum time.Duration
			for n := 1; n <= p.MaxRetries; n++ {
				sum += p.Backoff(n)
			}
			if sum > p.MaxBackoff() {
				t.Fatalf("%+v: waits add up to %v, more than MaxBackoff %v", p, sum, p.MaxBackoff())
			}
		}
	}
}
