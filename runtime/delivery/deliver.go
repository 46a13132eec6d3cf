package delivery

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// Deliverer POSTs events to functions and retries them under a Policy until
// the outcome is final. The binding and the input bindings share it, so
// every trigger gives a function's answer the same meaning.
type Deliverer struct {
	target Target
	rt     http.RoundTripper
	log    *slog.Logger
	tracer trace.Tracer
}

// NewDeliverer returns a Deliverer that sends each attempt through rt as
// one request whose answer counts as it comes, a redirect included (daprd's
// app channel does not follow them either); a nil rt uses a pooled
// transport made for this, a nil log discards.
func NewDeliverer(target Target, rt http.RoundTripper, log *slog.Logger) *Deliverer {
	if rt == nil {
		rt = newTransport()
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Deliverer{target: target, rt: rt, log: log, tracer: tracing.Tracer(nil)}
}

// SetTracerProvider records each attempt as a span of tp's.
func (d *Deliverer) SetTracerProvider(tp trace.TracerProvider) { d.tracer = tracing.Tracer(tp) }

// Answer is a delivery's final result.
type Answer struct {
	// Outcome is final: Ack, DeadLetter, Retry (budget spent) or Requeue.
	Outcome Outcome
	// Status, Header and Body are the function's last answer, if any.
	Status int
	Header http.Header
	Body   []byte
	// Err is the last attempt's error (transport, permanent, refusal).
	Err      error
	Attempts int
}

// Cause describes why an answer is not an Ack, for logs and dead letters.
func (a Answer) Cause() error {
	if a.Err != nil {
		return a.Err
	}
	return fmt.Errorf("function answered %d %s: %.200s", a.Status, http.StatusText(a.Status), a.Body)
}

// StructuredTarget is an optional capability of a Target: the functions it
// reports get each event in structured mode (the whole CloudEvent as JSON,
// Content-Type application/cloudevents+json), the others in binary mode.
type StructuredTarget interface {
	Target
	Structured(function string) bool
}

// Deliver sends ev to function, in binary mode unless the Target asks for
// structured mode (StructuredTarget), retrying transient failures under
// pol, and returns the final answer.
func (d *Deliverer) Deliver(ctx context.Context, function string, ev *event.Event, pol Policy) Answer {
	if st, ok := d.target.(StructuredTarget); ok && st.Structured(function) {
		return d.DeliverPayload(ctx, function, structured{ev: ev}, pol)
	}
	return d.DeliverPayload(ctx, function, single{ev: ev}, pol)
}

// DeliverPayload sends p to function, retrying transient failures under
// pol, and returns the final answer.
func (d *Deliverer) DeliverPayload(ctx context.Context, function string, p Payload, pol Policy) Answer {
	start := time.Now()
	a := d.attempt(ctx, function, p, pol, 1)
	for n := 1; a.Outcome == Retry; n++ {
		if err := ctx.Err(); err != nil { // stopping: never dead-letter what was cut short
			a.Outcome, a.Err = Requeue, fmt.Errorf("delivery aborted: %w (last: %w)", err, a.Cause())
			break
		}
		wait, ok := pol.Retry.Next(n, time.Since(start))
		if !ok {
			if pol.Retry.Unlimited() {
				a.Outcome = Requeue // the broker delivers it again: retried forever
			}
			break
		}
		noteBackoff(ctx, wait, n+1)
		if err := Sleep(ctx, wait); err != nil {
			a.Outcome, a.Err = Requeue, fmt.Errorf("retry interrupted: %w (last: %w)", err, a.Cause())
			break
		}
		a = d.attempt(ctx, function, p, pol, n+1)
		a.Attempts = n + 1
	}
	return a
}

// attempt makes one attempt through the circuit breaker.
func (d *Deliverer) attempt(ctx context.Context, function string, p Payload, pol Policy, n int) (a Answer) {
	ctx, span := d.startAttempt(ctx, function, n)
	defer func() { endAttempt(span, a) }()
	done, err := pol.Breaker.Allow()
	if err != nil {
		return Answer{Outcome: Classify(0, err), Err: err, Attempts: 1}
	}
	res, err := d.Post(ctx, function, p, pol.Timeout)
	outcome := p.Outcome(res, err)
	done(outcome != Retry)
	d.log.DebugContext(ctx, "delivered", "function", function, "ce.id", p.ID(), "status", res.Status,
		"outcome", outcome.String(), "error", err)
	return Answer{Outcome: outcome, Status: res.Status, Header: res.Header, Body: res.Body, Err: err, Attempts: 1}
}

// DirectPayload is a Payload that delivers itself rather than as an HTTP
// POST to a Target (a gRPC app's OnTopicEvent); its Write is not called.
type DirectPayload interface {
	Payload
	Deliver(ctx context.Context, timeout time.Duration) (Result, error)
}

// Post makes one attempt to deliver p to function, without retries or the
// circuit breaker, and returns the answer as it came.
func (d *Deliverer) Post(ctx context.Context, function string, p Payload, timeout time.Duration) (Result, error) {
	if dp, ok := p.(DirectPayload); ok {
		return dp.Deliver(ctx, timeout)
	}
	url, release, err := d.target.Acquire(ctx, function)
	if err != nil {
		return Result{}, fmt.Errorf("function %s: %w", function, err)
	}
	res, err := send(ctx, d.rt, url+p.Path(), p, timeout)
	release(err != nil || res.Status < 200 || res.Status > 299)
	return res, err
}

// Sleep waits d, or until ctx ends (then it returns ctx.Err()).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newTransport() *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
}
