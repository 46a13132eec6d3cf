package sidecar

import (
	"encoding/json"
	"net/http"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestPublishSpan(t *testing.T) {
	tests := []struct {
		name   string
		header http.Header
	}{
		{"continues the caller's trace", http.Header{"Traceparent": {callerTraceparent}}},
		{"starts a trace without one", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			e := startEnv(t, WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))
			resp := e.post(t, "/v1.0/publish/"+testPubSub+"/orders", "application/json", `{"orderId":1}`, tt.header)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("publish: got %d, want 204", resp.StatusCode)
			}
			spans := rec.Ended()
			if len(spans) != 1 || spans[0].Name() != "publish orders" || spans[0].SpanKind() != trace.SpanKindProducer {
				t.Fatalf("got %d spans (%v), want one producer span publish orders", len(spans), spans)
			}
			sp := spans[0]
			if tt.header != nil && (sp.Parent().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" || sp.Parent().SpanID().String() != "b7ad6b7169203331") {
				t.Errorf("parent %v, want the caller's span", sp.Parent())
			}
			if tt.header == nil && sp.Parent().IsValid() {
				t.Errorf("parent %v, want a root span", sp.Parent())
			}
			var env map[string]any
			if err := json.Unmarshal(e.pub.last(t).Data, &env); err != nil {
				t.Fatal(err)
			}
			want := formatTraceParent(sp.SpanContext().TraceID(), sp.SpanContext().SpanID(), byte(sp.SpanContext().TraceFlags()))
			if env["traceparent"] != want || env["traceid"] != want {
				t.Errorf("envelope traceparent %v traceid %v, want the publish span %s", env["traceparent"], env["traceid"], want)
			}
		})
	}
}
