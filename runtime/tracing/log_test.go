package tracing

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func TestLogHandler(t *testing.T) {
	var b strings.Builder
	log := slog.New(LogHandler(slog.NewTextHandler(&b, nil))).With("function", "checkout")
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid}))
	log.InfoContext(ctx, "traced")
	log.Info("untraced")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if !strings.Contains(lines[0], "function=checkout trace_id="+tid.String()+" span_id="+sid.String()) {
		t.Errorf("got %q, want trace_id and span_id after the logger's attributes", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Errorf("got %q, want no trace_id without a span", lines[1])
	}
}
