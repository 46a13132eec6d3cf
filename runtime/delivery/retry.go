package delivery

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

// RetryPolicy bounds in-process redelivery of a message that failed
// transiently. The defaults (DefaultRetryPolicy) are written down in README.md.
type RetryPolicy struct {
	// MaxRetries is how many times a message is retried after the first
	// attempt; 0 means no retry, UnlimitedRetries (-1) no bound.
	MaxRetries int
	// Initial is the first backoff; each retry multiplies it by Multiplier up
	// to Max. Every wait is jittered by ±Jitter (a fraction, 0..1).
	Initial    time.Duration
	Max        time.Duration
	Multiplier float64
	Jitter     float64
	// MaxElapsed applies to unlimited retries only: after retrying this long
	// the message is handed back to the broker (Requeue), which delivers it
	// again later, so it is retried forever and never dead-lettered. Keep it
	// below the component's redelivery timeout (ackWait, processingTimeout).
	// Zero means DefaultMaxElapsed.
	MaxElapsed time.Duration
}

// UnlimitedRetries is MaxRetries for a policy that never gives up: Dapr's
// maxRetries -1.
const UnlimitedRetries = resources.UnlimitedRetries

// DefaultMaxElapsed bounds one round of unlimited retries: inside the
// embedded broker's 30s ack wait and Redis' 60s processing timeout.
const DefaultMaxElapsed = 20 * time.Second

// DefaultTimeout bounds one delivery attempt when nothing else does: as
// long as an HTTP handler is commonly given. From a component that does
// not keep messages alive during their delivery (subscriptions.Config.KeepsAlive), it is
// lowered to the longest with which deliveries fit inside the component's
// redelivery timeout: 4.3s with JetStream's default 30s ack wait, 9.3s
// with Redis' 60s processingTimeout or Kafka's rebalance timeout (six
// attempts and 3.7s of backoff under DefaultRetryPolicy).
const DefaultTimeout = 30 * time.Second

// DefaultRetryPolicy: 5 retries, 100ms doubling up to 2s with ±20% jitter,
// about 5s in all, well inside the embedded broker's 30s ack wait.
var DefaultRetryPolicy = RetryPolicy{MaxRetries: 5, Initial: 100 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: 0.2}

// Validate reports a policy that cannot be used.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxRetries < UnlimitedRetries:
		return errors.New("retry: MaxRetries must be -1 (unlimited) or more")
	case p.MaxRetries != 0 && p.Initial <= 0:
		return errors.New("retry: Initial must be positive")
	case p.Max < p.Initial:
		return errors.New("retry: Max must be at least Initial")
	case p.Multiplier < 1:
		return errors.New("retry: Multiplier must be at least 1")
	case p.Jitter < 0 || p.Jitter > 1:
		return errors.New("retry: Jitter must be between 0 and 1")
	case p.MaxElapsed < 0:
		return errors.New("retry: MaxElapsed must not be negative")
	}
	return nil
}

// Unlimited reports whether the policy retries without a count.
func (p RetryPolicy) Unlimited() bool { return p.MaxRetries < 0 }

// Next returns the wait before retry number n (1-based), and false when
// the policy allows no such retry after elapsed.
func (p RetryPolicy) Next(n int, elapsed time.Duration) (time.Duration, bool) {
	wait := p.Backoff(n)
	if !p.Unlimited() {
		return wait, n <= p.MaxRetries
	}
	return wait, elapsed+wait < p.MaxElapsedOrDefault()
}

// MaxElapsedOrDefault is how long unlimited retries go on before the
// message is handed back to the broker.
func (p RetryPolicy) MaxElapsedOrDefault() time.Duration {
	if p.MaxElapsed == 0 {
		return DefaultMaxElapsed
	}
	return p.MaxElapsed
}

// Backoff returns the wait before retry number n (1-based).
func (p RetryPolicy) Backoff(n int) time.Duration {
	d := p.base(n)
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}

// base is the wait before retry n without jitter: Initial grown by
// Multiplier per retry, capped at Max.
func (p RetryPolicy) base(n int) float64 {
	d := float64(p.Initial)
	for i := 1; i < n && d < float64(p.Max); i++ {
		d *= p.Multiplier
	}
	return min(d, float64(p.Max))
}

// MaxBackoff is the most the waits between all of a limited policy's
// retries can add up to: each at its cap and its largest jitter.
func (p RetryPolicy) MaxBackoff() time.Duration {
	var sum float64
	for n := 1; n <= p.MaxRetries; n++ {
		d := p.base(n)
		if d >= float64(p.Max) { // capped from here on
			sum += d * float64(p.MaxRetries-n+1)
			break
		}
		sum += d
	}
	return clampDuration(sum * (1 + p.Jitter))
}

// clampDuration converts nanoseconds to a Duration, saturating.
func clampDuration(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}
