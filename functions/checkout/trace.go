package function

import (
	"context"

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
