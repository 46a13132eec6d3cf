package binding

import (
	"errors"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds in-process redelivery of a message that failed
// transiently. The defaults (Default) are written down in README.md.
type RetryPolicy struct {
	// MaxRetries is how many times a message is retried after the first
	// attempt; 0 means no retry.
	MaxRetries int
	// Initial is the first backoff; each retry multiplies it by Multiplier up
	// to Max. Every wait is jittered by ±Jitter (a fraction, 0..1).
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64
}

// DefaultRetryPolicy: 5 retries, 100ms doubling up to 2s with ±20% jitter,
// about 5s in all, well inside the embedded broker's 30s ack wait.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 5, Initial: 100 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: 0.2}

// Validate reports a policy that cannot be used.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxRetries < 0:
		return errors.New("retry: MaxRetries must not be negative")
	case p.MaxRetries > 0 && p.Initial <= 0:
		return errors.New("retry: Initial must be positive")
	case p.Max < p.Initial:
		return errors.New("retry: Max must be at least Initial")
	case p.Multiplier < 1:
		return errors.New("retry: Multiplier must be at least 1")
	case p.Jitter < 0 || p.Jitter > 1:
		return errors.New("retry: Jitter must be between 0 and 1")
	}
	return nil
}

// Backoff returns the wait before retry number n (1-based).
func (p RetryPolicy) Backoff(n int) time.Duration {
	d := float64(p.Initial)
	for i := 1; i < n && d < float64(p.Max); i++ {
		d *= p.Multiplier
	}
	d = min(d, float64(p.Max))
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}
