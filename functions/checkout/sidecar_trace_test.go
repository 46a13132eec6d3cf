package function

import (
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/metadata"
)

// TestHandlePublishesInsideCheckoutsSpan checks that checkout's span is a
// child of the hop that called it and the parent of its publish, on the
// publisher's context and in the gRPC metadata that reaches the sidecar.
func TestHandlePublishesInsideCheckoutsSpan(t *testing.T) {
	pub := &fakePublisher{}
	f, logs := startedFunction(t, pub)
	tr, exp := recordingTracer("checkout")
	f.tracer.Store(tr)
	// funcd's scaffold also puts the hop's traceparent into the outgoing
	// metadata; checkout's own span must replace it.
	ctx := metadata.AppendToOutgoingContext(hopContext(t), "traceparent", hopParent)
	if _, err := f.Handle(ctx, orderEvent("application/json", `{"orderId":1}`)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Parent.SpanID().String() != hopSpan {
		t.Fatalf("got spans %v, want checkout's span, child of %s", spans, hopSpan)
	}
	own := spans[0].SpanContext
	pub.mu.Lock()
	got := pub.spans
	pub.mu.Unlock()
	if len(got) != 1 || !got[0].Equal(own) {
		t.Errorf("publish context: got %v, want checkout's span %v", got, own)
	}
	if want := "span_id=" + own.SpanID().String(); !strings.Contains(logs.String(), want) {
		t.Errorf("logs: got %q, want %s", logs.String(), want)
	}

	md, _ := metadata.FromOutgoingContext(withTraceMetadata(trace.ContextWithSpanContext(ctx, own)))
	want := "00-" + own.TraceID().String() + "-" + own.SpanID().String() + "-01"
	if tp := md.Get("traceparent"); len(tp) != 1 || tp[0] != want {
		t.Errorf("outgoing traceparent: got %v, want [%s]", tp, want)
	}
}
