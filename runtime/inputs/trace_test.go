package inputs

import (
	"net/http"
	"testing"

	"github.com/dapr/components-contrib/bindings"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/tracing"
)

// TestTriggerSpan checks that each event an input binding reads is a
// consumer span of its own, the root of a trace, with every attempt as its
// child and the last attempt's trace context in the function's request.
func TestTriggerSpan(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		wantOutcome  string
		wantAttempts int
	}{
		{"acked", http.StatusOK, "ack", 1},
		{"retries spent", http.StatusServiceUnavailable, "retry", 1 + fast.MaxRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			url, fn := function(t, tt.status)
			in, err := New(t.Context(), Config{Components: []resources.Component{cronComponent("tick", nil)},
				Target: target{"tick": url}, Retry: fast, TracerProvider: sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))})
			if err != nil {
				t.Fatal(err)
			}
			in.life = t.Context()
			_, _ = in.handler(in.triggers[0])(t.Context(), &bindings.ReadResponse{})

			var process sdktrace.ReadOnlySpan
			var attempts []sdktrace.ReadOnlySpan
			for _, s := range rec.Ended() {
				switch s.Name() {
				case "process tick":
					process = s
				case "deliver tick":
					attempts = append(attempts, s)
				}
			}
			if process == nil || process.SpanKind() != trace.SpanKindConsumer || process.Parent().IsValid() {
				t.Fatalf("got process span %v, want a consumer root \"process tick\"", process)
			}
			if got := attr(process, string(tracing.OutcomeKey)); got != tt.wantOutcome {
				t.Errorf("outcome = %q, want %q", got, tt.wantOutcome)
			}
			if got := attr(process, string(tracing.FunctionKey)); got != "tick" {
				t.Errorf("function = %q, want tick", got)
			}
			if len(attempts) != tt.wantAttempts {
				t.Fatalf("got %d attempt spans, want %d", len(attempts), tt.wantAttempts)
			}
			for _, a := range attempts {
				if a.Parent().SpanID() != process.SpanContext().SpanID() {
					t.Errorf("attempt's parent %v, want the process span", a.Parent().SpanID())
				}
			}
			fn.mu.Lock()
			got := propagation.TraceContext{}.Extract(t.Context(), propagation.HeaderCarrier(fn.headers[len(fn.headers)-1]))
			fn.mu.Unlock()
			if sc := trace.SpanContextFromContext(got); sc.SpanID() != attempts[len(attempts)-1].SpanContext().SpanID() {
				t.Errorf("function got traceparent of span %v, want the last attempt's", sc.SpanID())
			}
		})
	}
}

func attr(s sdktrace.ReadOnlySpan, key string) string {
	for _, kv := range s.Attributes() {
		if string(kv.Key) == key {
			return kv.Value.Emit()
		}
	}
	return ""
}
