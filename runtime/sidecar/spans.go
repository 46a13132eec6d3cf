package sidecar

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// startPublish starts the producer span of a publish, a child of the
// caller's trace context (a new trace when the caller sent none), and puts
// the span's context into the envelope m will carry, so every later hop is
// its descendant.
func (s *Sidecar) startPublish(ctx context.Context, m *message) (context.Context, trace.Span) {
	if !m.trace.started {
		ctx = propagation.TraceContext{}.Extract(ctx,
			propagation.MapCarrier{traceparentHeader: m.trace.parent, tracestateHeader: m.trace.state})
	}
	ctx, span := s.tracer.Start(ctx, "publish "+m.topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(
			attribute.String("messaging.system", "dapr"),
			attribute.String("messaging.operation.type", "publish"),
			attribute.String("messaging.destination.name", m.topic),
			attribute.String("dapr.pubsub.name", m.pubsub),
			attribute.String("funcd.app_id", s.appID),
			attribute.String(tracing.HopKey, tracing.HopPublish),
		))
	if sc := span.SpanContext(); sc.IsValid() {
		m.trace.parent = formatTraceParent(sc.TraceID(), sc.SpanID(), byte(sc.TraceFlags()))
		m.trace.state = sc.TraceState().String()
	}
	return ctx, span
}

func endPublish(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}
