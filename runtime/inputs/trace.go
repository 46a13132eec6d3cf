package inputs

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/tracing"
)

// startTrigger starts the consumer span of delivering ev, read by t's
// binding, to its function: "process <binding>", the root of a trace of
// its own (an input binding's event carries no trace context), and the
// parent of every attempt, so the function's own spans join it.
func (in *Inputs) startTrigger(ctx context.Context, t *trigger, ev *event.Event) (context.Context, trace.Span) {
	return in.tracer.Start(ctx, "process "+t.comp.Name, trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("dapr.binding.name", t.comp.Name),
			attribute.String("dapr.binding.type", t.comp.Type),
			attribute.String("cloudevents.event_id", ev.ID()),
			attribute.String("cloudevents.event_type", ev.Type()),
			attribute.String("cloudevents.event_source", ev.Source()),
			tracing.FunctionKey.String(t.function),
			attribute.String(tracing.HopKey, tracing.HopDelivery)))
}

// endTrigger records the delivery's final outcome on its span.
func endTrigger(span trace.Span, a delivery.Answer) {
	span.SetAttributes(tracing.OutcomeKey.String(a.Outcome.String()), attribute.Int("funcd.delivery.attempts", a.Attempts))
	if a.Outcome != delivery.Ack {
		span.SetStatus(codes.Error, a.Cause().Error())
	}
	span.End()
}
