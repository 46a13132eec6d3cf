package tracing

import (
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of funcd's own spans.
const ScopeName = "github.com/funcd/funcd"

// Tracer returns the tracer of funcd's spans from tp; a nil tp records
// nothing.
func Tracer(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(ScopeName)
}

// Attribute keys funcd's spans carry beyond the OpenTelemetry semantic
// conventions' messaging.*, cloudevents.*, faas.* and http.* ones.
const (
	// AttemptKey numbers a delivery attempt from 1.
	AttemptKey = attribute.Key("funcd.delivery.attempt")
	// OutcomeKey is what the binding did with an attempt's or a
	// delivery's answer: ack, retry, dead-letter, requeue or drop.
	OutcomeKey = attribute.Key("funcd.delivery.outcome")
	// BackoffKey is the wait before the next attempt, in milliseconds.
	BackoffKey = attribute.Key("funcd.delivery.backoff_ms")
	// FunctionKey names the function a span is about (faas.invoked_name).
	FunctionKey = attribute.Key("faas.invoked_name")
)

// Event names on delivery spans.
const (
	EventBackoff      = "backoff"
	EventDeadLettered = "dead-lettered"
	EventDropped      = "dropped"
	EventReply        = "reply published"
)
