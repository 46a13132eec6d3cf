package function

import (
	"context"
	"errors"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

const (
	hopTrace  = "4bf92f3577b34da6a3ce929d0e0e4736"
	hopSpan   = "00f067aa0ba902b7"
	hopParent = "00-" + hopTrace + "-" + hopSpan + "-01"
)

// recordingTracer returns a tracer that keeps its spans in memory.
func recordingTracer(name string) (*tracer, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	return &tracer{name: name, tp: sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))}, exp
}

// hopContext is the context a runtime hands Handle: the delivering hop's
// span as the remote parent.
func hopContext(t *testing.T) context.Context {
	t.Helper()
	return eventTrace(context.Background(), tracedEvent(hopParent))
}

func tracedEvent(traceparent string) event.Event {
	e := event.New()
	e.SetID("order-1")
	e.SetType("com.example.order")
	e.SetSource("/test")
	if traceparent != "" {
		e.SetExtension("traceparent", traceparent)
	}
	return e
}

func TestTracerStartsTheFunctionsSpan(t *testing.T) {
	tests := []struct {
		name string
		ctx  context.Context
		e    event.Event
		err  error
	}{
		{"child of the hop in Handle's context", eventTrace(context.Background(), tracedEvent(hopParent)), tracedEvent(""), nil},
		{"child of the event's traceparent when Handle's context has none", context.Background(), tracedEvent(hopParent), nil},
		{"a failed handling fails the span", eventTrace(context.Background(), tracedEvent(hopParent)), tracedEvent(""), errors.New("broker down")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, exp := recordingTracer("fn")
			ctx, span := tr.start(tt.ctx, tt.e)
			inner := trace.SpanContextFromContext(ctx)
			end(span, tt.err)
			spans := exp.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("got %d spans, want 1", len(spans))
			}
			sp := spans[0]
			if sp.Name != "fn" || sp.SpanKind != trace.SpanKindServer {
				t.Errorf("got span %q of kind %s, want fn, server", sp.Name, sp.SpanKind)
			}
			if got := sp.Parent.TraceID().String() + "-" + sp.Parent.SpanID().String(); got != hopTrace+"-"+hopSpan {
				t.Errorf("parent: got %s, want %s-%s", got, hopTrace, hopSpan)
			}
			if !inner.Equal(sp.SpanContext) {
				t.Errorf("Handle's context carries %v, want the function's span %v", inner, sp.SpanContext)
			}
			if want := map[bool]codes.Code{true: codes.Error, false: codes.Unset}[tt.err != nil]; sp.Status.Code != want {
				t.Errorf("status: got %v, want %v", sp.Status.Code, want)
			}
		})
	}
}

func TestTracerWithoutEndpointKeepsTheHopsContext(t *testing.T) {
	tr, err := newTracer(context.Background(), "fn", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := tr.start(hopContext(t), tracedEvent(""))
	end(span, nil)
	got := traceAttrs(ctx)
	if len(got) != 4 || got[1] != hopTrace || got[3] != hopSpan {
		t.Errorf("log attributes: got %v, want the hop's trace %s and span %s", got, hopTrace, hopSpan)
	}
	if err := tr.shutdown(context.Background()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	var none *tracer // before Start
	if ctx, _ := none.start(context.Background(), tracedEvent(hopParent)); !trace.SpanContextFromContext(ctx).IsValid() {
		t.Error("a nil tracer lost the event's trace context")
	}
}

func TestNewTracerFromEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		exports bool
		wantErr bool
	}{
		{"no endpoint", nil, false, false},
		{"http endpoint", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, true, false},
		{"grpc traces endpoint", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, true, false},
		{"sdk disabled", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, false, false},
		{"exporter none", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_TRACES_EXPORTER": "none"}, false, false},
		{"unknown protocol", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := newTracer(context.Background(), "fn", func(k string) string { return tt.env[k] })
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got := tr.tp != nil; got != tt.exports {
				t.Errorf("exports: got %v, want %v", got, tt.exports)
			}
			if err := tr.shutdown(context.Background()); err != nil {
				t.Errorf("shutdown: %v", err)
			}
		})
	}
}
