package function

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
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

// tracer records the function's own span for each event it handles, and
// exports it with the OpenTelemetry SDK through the standard environment
// (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER, OTEL_SERVICE_NAME...)
// that funcd, Knative or the user passes. Without an OTLP endpoint it
// records nothing: the event's trace context still reaches Handle's
// context, log lines and publishes, parented to the hop that delivered it.
type tracer struct {
	name string
	tp   *sdktrace.TracerProvider // nil when nothing is exported
}

// newTracer returns the tracer of the function called name (its default
// service.name); getenv reads the OTEL_* variables that decide whether
// spans are exported, and how.
func newTracer(ctx context.Context, name string, getenv func(string) string) (*tracer, error) {
	t := &tracer{name: name}
	endpoint := firstEnv(getenv, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
	if endpoint == "" || strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") ||
		strings.Contains(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return t, nil
	}
	exp, err := newExporter(ctx, firstEnv(getenv, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"))
	if err != nil {
		return nil, fmt.Errorf("export traces to %s: %w", endpoint, err)
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES come last, so they win.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(name)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	t.tp = sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return t, nil
}

// newExporter returns the OTLP exporter of protocol: http/protobuf (the
// default) or grpc. The exporter reads the endpoint, headers and timeouts
// from the environment itself.
func newExporter(ctx context.Context, protocol string) (sdktrace.SpanExporter, error) {
	switch protocol {
	case "", "http/protobuf":
		return otlptracehttp.New(ctx)
	case "grpc":
		return otlptracegrpc.New(ctx)
	}
	return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: want http/protobuf or grpc", protocol)
}

func firstEnv(getenv func(string) string, keys ...string) string {
	for _, k := range keys {
		if v := getenv(k); v != "" {
			return v
		}
	}
	return ""
}

// start begins the span of handling e: a server span named after the
// function, as the FaaS conventions name it, and a child of the trace
// context Handle got (the hop that delivered e) or, when the runtime gave
// none, of e's distributed-tracing extension. Spans the handling starts,
// and its publishes, are the span's children. A nil tracer, or one that
// exports nothing, starts no span and returns the context's own.
func (t *tracer) start(ctx context.Context, e event.Event) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = eventTrace(ctx, e)
	}
	if t == nil || t.tp == nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	trigger := semconv.FaaSTriggerHTTP
	if _, ok := e.Extensions()["topic"]; ok {
		trigger = semconv.FaaSTriggerPubsub
	}
	return t.tp.Tracer(t.name).Start(ctx, t.name, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(trigger, semconv.FaaSInvocationID(e.ID()),
			attribute.String("cloudevents.event_id", e.ID()),
			attribute.String("cloudevents.event_type", e.Type()),
			attribute.String("cloudevents.event_source", e.Source())))
}

// eventTrace returns ctx carrying e's traceparent and tracestate
// extensions, when valid.
func eventTrace(ctx context.Context, e event.Event) context.Context {
	carrier := propagation.MapCarrier{}
	for _, k := range [...]string{"traceparent", "tracestate"} {
		if v, ok := e.Extensions()[k].(string); ok {
			carrier[k] = v
		}
	}
	return propagation.TraceContext{}.Extract(ctx, carrier)
}

// end ends span with the handling's result: an error fails it.
func end(span trace.Span, err error) {
	if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// shutdown exports the spans still buffered.
func (t *tracer) shutdown(ctx context.Context) error {
	if t == nil || t.tp == nil {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("export traces: %w", err)
	}
	return nil
}
