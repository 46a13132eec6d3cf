package gateway

import (
	"net/http"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// Traces serves funcd's recent traces (tracing.ListPath, TracePath).
type Traces interface {
	ListHandler() http.Handler
	TraceHandler() http.Handler
}

// noTraces answers the trace paths when no traces are kept.
type noTraces struct{}

func (noTraces) ListHandler() http.Handler  { return http.HandlerFunc(tracingOff) }
func (noTraces) TraceHandler() http.Handler { return http.HandlerFunc(tracingOff) }

func tracingOff(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, "no traces are kept: tracing is off (OTEL_SDK_DISABLED=true)")
}

// traced records a server span per request to a function, continuing the
// caller's traceparent or starting a trace, and names the function on it.
func (g *gateway) traced(next http.Handler) http.Handler {
	if g.cfg.TracerProvider == nil {
		return next
	}
	return otelhttp.NewHandler(next, "gateway",
		otelhttp.WithTracerProvider(g.cfg.TracerProvider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			return r.Method + " /" + r.PathValue("function")
		}),
	)
}

// tracedTransport records a client span per call to a function instance
// and sends its context as the traceparent header, so the function's
// handling is its child.
func (g *gateway) tracedTransport(rt http.RoundTripper) http.RoundTripper {
	if g.cfg.TracerProvider == nil {
		return rt
	}
	return otelhttp.NewTransport(rt,
		otelhttp.WithTracerProvider(g.cfg.TracerProvider),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanOptions(trace.WithAttributes(attribute.String(tracing.HopKey, tracing.HopFunction))),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string {
			if t, ok := r.Context().Value(targetKey{}).(*target); ok {
				return "invoke " + t.function
			}
			return "invoke " + r.PathValue("function")
		}),
	)
}

// nameFunction puts the function's name on the request's span.
func nameFunction(r *http.Request, function string) {
	trace.SpanFromContext(r.Context()).SetAttributes(tracing.FunctionKey.String(function),
		attribute.String(tracing.HopKey, tracing.HopGateway))
}
