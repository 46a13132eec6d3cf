package tracing

import "time"

// Span is one recorded span as the gateway serves it.
type Span struct {
	TraceID  string    `json:"traceId"`
	SpanID   string    `json:"spanId"`
	ParentID string    `json:"parentId,omitempty"`
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Service  string    `json:"service"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	// Status is "ok", "error" or "" (unset); Message says why it failed.
	Status  string `json:"status,omitempty"`
	Message string `json:"message,omitempty"`
	// Attributes are the span's attributes as strings.
	Attributes map[string]string `json:"attributes,omitempty"`
	Events     []Event           `json:"events,omitempty"`
	Links      []string          `json:"links,omitempty"` // "traceId-spanId"
}

// Event is a timed note on a span (a backoff, a dead letter, a reply).
type Event struct {
	Name       string            `json:"name"`
	Time       time.Time         `json:"time"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// Duration is how long the span lasted.
func (s Span) Duration() time.Duration { return s.End.Sub(s.Start) }

// Trace is one trace's spans, ordered by start time.
type Trace struct {
	TraceID string `json:"traceId"`
	Spans   []Span `json:"spans"`
	// Dropped counts spans not kept because the trace had MaxSpans.
	Dropped int `json:"dropped,omitempty"`
}

// Summary is one line of the trace list.
type Summary struct {
	TraceID   string        `json:"traceId"`
	Root      string        `json:"root"`
	Functions []string      `json:"functions"`
	Start     time.Time     `json:"start"`
	Duration  time.Duration `json:"durationNs"`
	Spans     int           `json:"spans"`
	// Outcome is "ok", "error", "dead-lettered" or "retried".
	Outcome string `json:"outcome"`
}
