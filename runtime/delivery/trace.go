package delivery

import (
	"context"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// startAttempt starts the client span of delivery attempt n to fn.
func (d *Deliverer) startAttempt(ctx context.Context, fn string, n int) (context.Context, trace.Span) {
	return d.tracer.Start(ctx, "deliver "+fn, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(tracing.FunctionKey.String(fn), tracing.AttemptKey.Int(n),
			attribute.String(tracing.HopKey, tracing.HopFunction)))
}

// endAttempt records an attempt's answer and outcome on its span.
func endAttempt(span trace.Span, a Answer) {
	span.SetAttributes(tracing.OutcomeKey.String(a.Outcome.String()))
	if a.Status != 0 {
		span.SetAttributes(attribute.Int("http.response.status_code", a.Status))
	}
	if a.Outcome != Ack {
		span.SetStatus(codes.Error, a.Cause().Error())
	}
	span.End()
}

// noteBackoff records the wait before the next attempt.
func noteBackoff(ctx context.Context, wait time.Duration, next int) {
	trace.SpanFromContext(ctx).AddEvent(tracing.EventBackoff,
		trace.WithAttributes(tracing.BackoffKey.Int64(wait.Milliseconds()), tracing.AttemptKey.Int(next)))
}

// injectTrace sets the traceparent header of a delivery to the attempt's
// span, so the function's own spans are its children; the event's
// ce-traceparent extension is sent unchanged.
func injectTrace(ctx context.Context, h http.Header) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(h))
	}
}
