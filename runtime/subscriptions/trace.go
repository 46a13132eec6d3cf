package subscriptions

import (
	"context"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/tracing"
)

// traceContext reads and writes W3C traceparent/tracestate.
var traceContext = propagation.TraceContext{}

// eventContext returns ctx carrying the trace context of ev's
// distributed-tracing extension (traceparent, tracestate), when valid.
func eventContext(ctx context.Context, ev *event.Event) context.Context {
	ext := ev.Extensions()
	carrier := propagation.MapCarrier{}
	if tp, ok := ext["traceparent"].(string); ok {
		carrier["traceparent"] = tp
	}
	if ts, ok := ext["tracestate"].(string); ok {
		carrier["tracestate"] = ts
	}
	return traceContext.Extract(ctx, carrier)
}

// startProcess records the time ev spent in the topic and starts the
// consumer span of its delivery to fn: a child of the publish span the
// event carries (one tree per order, as Dapr parents it), linked to it as
// the messaging conventions ask. A message without trace context starts a
// new trace.
func (b *Binding) startProcess(ctx context.Context, s *subscription, msg *pubsub.Message, ev *event.Event, fn string) (context.Context, trace.Span) {
	parent := eventContext(ctx, ev)
	attrs := []attribute.KeyValue{
		attribute.String("messaging.system", "dapr"),
		attribute.String("messaging.destination.name", s.res.Topic),
		attribute.String("messaging.consumer.group.name", s.res.Name),
		attribute.String("messaging.message.id", ev.ID()),
		attribute.String("cloudevents.event_id", ev.ID()),
		attribute.String("cloudevents.event_type", ev.Type()),
		attribute.String("cloudevents.event_source", ev.Source()),
		attribute.String("dapr.pubsub.name", s.res.PubsubName),
		tracing.FunctionKey.String(fn),
	}
	now := time.Now()
	if t := publishTime(msg, ev); !t.IsZero() && t.Before(now) && trace.SpanContextFromContext(parent).IsValid() {
		_, wait := b.tracer.Start(parent, "wait "+s.res.Topic, trace.WithTimestamp(t),
			trace.WithAttributes(attrs[1], attrs[3], attribute.String(tracing.HopKey, tracing.HopTopic)))
		wait.End(trace.WithTimestamp(now))
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...),
		trace.WithAttributes(attribute.String(tracing.HopKey, tracing.HopDelivery))}
	if sc := trace.SpanContextFromContext(parent); sc.IsValid() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
	}
	return b.tracer.Start(parent, "process "+s.res.Topic, opts...)
}

// publishTime is when the broker stored msg, when its adapter says
// (pubsub.PublishTimeKey), else the envelope's time when it is finer than
// a second. daprd writes an envelope's time in whole seconds (RFC 3339
// without a fraction), which would start the wait up to a second before
// the publish: then the time is unknown (zero) and no wait span is
// recorded; the gap between the publish span and the delivery's still
// shows it.
func publishTime(msg *pubsub.Message, ev *event.Event) time.Time {
	if v, ok := msg.Metadata[pubsub.PublishTimeKey]; ok {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t
		}
	}
	if t := ev.Time(); t.Nanosecond() != 0 {
		return t
	}
	return time.Time{}
}

// endProcess records a delivery's final outcome on its span.
func endProcess(span trace.Span, a delivery.Answer, err error) {
	outcome := a.Outcome.String()
	span.SetAttributes(tracing.OutcomeKey.String(outcome), attribute.Int("funcd.delivery.attempts", a.Attempts))
	switch {
	case a.Outcome != delivery.Ack:
		span.SetStatus(codes.Error, a.Cause().Error())
	case err != nil:
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// note records a named event (dead letter, drop, reply) on ctx's span.
func note(ctx context.Context, name string, attrs ...attribute.KeyValue) {
	trace.SpanFromContext(ctx).AddEvent(name, trace.WithAttributes(attrs...))
}
