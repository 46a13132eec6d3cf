package subscriptions

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/tracing"
)

// startBatch starts the consumer span of delivering one batch of a
// topic's messages to fn. A batch holds messages of many traces, so, as
// the OpenTelemetry messaging conventions ask of a batch, its span starts
// a trace of its own and links to each message's trace context; a message
// without one gets no link.
func (b *Binding) startBatch(ctx context.Context, s *subscription, items []*item, fn string) (context.Context, trace.Span) {
	links := make([]trace.Link, 0, len(items))
	for _, it := range items {
		if sc := trace.SpanContextFromContext(eventContext(ctx, it.ev)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	return b.tracer.Start(ctx, "process "+s.res.Topic, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithLinks(links...), trace.WithAttributes(
			attribute.String("messaging.system", "dapr"),
			attribute.String("messaging.destination.name", s.res.Topic),
			attribute.String("messaging.consumer.group.name", s.res.Name),
			attribute.Int("messaging.batch.message_count", len(items)),
			attribute.String("dapr.pubsub.name", s.res.PubsubName),
			tracing.FunctionKey.String(fn),
			attribute.String(tracing.HopKey, tracing.HopDelivery)))
}

// endBatch records the outcomes of a batch's messages on its span: the
// outcome when they all share one, and how many were acknowledged; any
// message not acknowledged fails the span with cause.
func endBatch(span trace.Span, outcomes []delivery.Outcome, cause error) {
	acked := 0
	for _, o := range outcomes {
		if o == delivery.Ack {
			acked++
		}
	}
	span.SetAttributes(attribute.Int("funcd.delivery.acked", acked))
	if same(outcomes) {
		span.SetAttributes(tracing.OutcomeKey.String(outcomes[0].String()))
	}
	if acked < len(outcomes) && cause != nil {
		span.SetStatus(codes.Error, cause.Error())
	}
	span.End()
}

// same reports whether every outcome is the first one.
func same(outcomes []delivery.Outcome) bool {
	for _, o := range outcomes {
		if o != outcomes[0] {
			return false
		}
	}
	return len(outcomes) > 0
}
