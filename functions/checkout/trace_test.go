package function

import (
	"context"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

const orderTraceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

// TestHandleEventTrace: without a trace in its context (func's scaffold on
// a cluster gives none), Handle continues the event's own trace context
// (ce-traceparent): the publish carries it to daprd as gRPC metadata and the
// log line names it. A trace already in the context (funcd's scaffold) wins,
// and is not added twice.
func TestHandleEventTrace(t *testing.T) {
	e := orderEvent("application/json", `{"orderId":1}`)
	e.SetExtension("traceparent", orderTraceparent)
	e.SetExtension("tracestate", "vendor=x")

	pub := &fakePublisher{}
	f, logs := startedFunction(t, pub)
	if _, err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := pub.traceparents; len(got) != 1 || got[0] != orderTraceparent {
		t.Errorf("publish traceparent metadata %q, want %q", got, orderTraceparent)
	}
	if got := logs.String(); !strings.Contains(got, "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7") {
		t.Errorf("log line without the event's trace: %q", got)
	}

	// funcd's scaffold: span context and metadata already there.
	const hop = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b}, SpanID: trace.SpanID{0x11}, TraceFlags: trace.FlagsSampled}))
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", hop)
	pub = &fakePublisher{}
	f, _ = startedFunction(t, pub)
	if _, err := f.Handle(ctx, e); err != nil {
		t.Fatal(err)
	}
	if got := pub.traceparents; len(got) != 1 || got[0] != hop {
		t.Errorf("with a trace in the context: publish traceparent %q, want only %q", got, hop)
	}

	// Not a traceparent: nothing is sent, daprd starts a trace.
	e.SetExtension("traceparent", "00-zz")
	pub = &fakePublisher{}
	f, _ = startedFunction(t, pub)
	if _, err := f.Handle(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if got := pub.traceparents; len(got) != 1 || got[0] != "" {
		t.Errorf("invalid extension: publish traceparent %q, want none", got)
	}
}
