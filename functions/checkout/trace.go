package function

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// traceAttrs are the trace_id and span_id of the trace ctx carries, for log
// lines: funcd gives Handle the trace context of each event, so a line
// leads to the order's trace (funcd trace ID, or any OTLP backend).
func traceAttrs(ctx context.Context) []any {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return nil
	}
	return []any{"trace_id", sc.TraceID().String(), "span_id", sc.SpanID().String()}
}

// eventTrace returns ctx carrying e's own trace context (the CloudEvents
// distributed-tracing extension: traceparent, tracestate) when ctx carries
// none: as the OpenTelemetry span context (log lines) and as traceparent
// gRPC metadata, which the Dapr SDK's publish carries to daprd, so the
// order's trace continues there. funcd's scaffold gives Handle each event's
// trace context itself; func's (func-go, on a cluster) gives none
// (knative/func#3866), and there a caller that sets ce-traceparent is
// followed.
func eventTrace(ctx context.Context, e event.Event) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	tp, _ := e.Extensions()["traceparent"].(string)
	if tp == "" {
		return ctx
	}
	ts, _ := e.Extensions()["tracestate"].(string)
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp, "tracestate": ts})
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx // not a W3C traceparent: daprd starts a trace of its own
	}
	kv := []string{"traceparent", tp}
	if ts != "" {
		kv = append(kv, "tracestate", ts)
	}
	return metadata.AppendToOutgoingContext(ctx, kv...)
}
