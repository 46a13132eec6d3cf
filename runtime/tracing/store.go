package tracing

import (
	"context"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Bounds of the in-memory Store.
const (
	DefaultMaxTraces = 512
	DefaultMaxSpans  = 256
	maxAttrValue     = 256 // bytes kept of one attribute value
	maxAttrs         = 32  // attributes kept per span or event
	maxEvents        = 32  // events kept per span
)

// Store keeps the spans of the most recent traces in memory: at most
// MaxTraces traces (the oldest is forgotten first) of at most MaxSpans spans
// each, with attribute values cut to a bounded length. It is an
// sdktrace.SpanProcessor.
type Store struct {
	maxTraces, maxSpans int

	mu     sync.Mutex
	traces map[string]*Trace
	order  []string // trace ids, oldest first
}

var _ sdktrace.SpanProcessor = (*Store)(nil)

// NewStore returns a Store; zero bounds take the defaults.
func NewStore(maxTraces, maxSpans int) *Store {
	if maxTraces <= 0 {
		maxTraces = DefaultMaxTraces
	}
	if maxSpans <= 0 {
		maxSpans = DefaultMaxSpans
	}
	return &Store{maxTraces: maxTraces, maxSpans: maxSpans, traces: map[string]*Trace{}}
}

// OnEnd records a finished span.
func (s *Store) OnEnd(ro sdktrace.ReadOnlySpan) {
	sp := convert(ro)
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.traces[sp.TraceID]
	if !ok {
		if len(s.order) >= s.maxTraces {
			delete(s.traces, s.order[0])
			s.order = slices.Delete(s.order, 0, 1)
		}
		t = &Trace{TraceID: sp.TraceID}
		s.traces[sp.TraceID] = t
		s.order = append(s.order, sp.TraceID)
	}
	if len(t.Spans) >= s.maxSpans {
		t.Dropped++
		return
	}
	t.Spans = append(t.Spans, sp)
}

// OnStart, Shutdown and ForceFlush do nothing: spans are kept on end.
func (s *Store) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (s *Store) Shutdown(context.Context) error                  { return nil }
func (s *Store) ForceFlush(context.Context) error                { return nil }

// Trace returns a copy of the trace with id, its spans by start time.
func (s *Store) Trace(id string) (Trace, bool) {
	s.mu.Lock()
	t, ok := s.traces[id]
	var out Trace
	if ok {
		out = Trace{TraceID: t.TraceID, Spans: slices.Clone(t.Spans), Dropped: t.Dropped}
	}
	s.mu.Unlock()
	slices.SortStableFunc(out.Spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return out, ok
}

// List summarises up to limit traces, the most recent first.
func (s *Store) List(limit int) []Summary {
	s.mu.Lock()
	ids := slices.Clone(s.order)
	s.mu.Unlock()
	slices.Reverse(ids)
	var out []Summary
	for _, id := range ids {
		if limit > 0 && len(out) >= limit {
			break
		}
		if t, ok := s.Trace(id); ok {
			out = append(out, Summarize(t))
		}
	}
	return out
}

func convert(ro sdktrace.ReadOnlySpan) Span {
	sc := ro.SpanContext()
	sp := Span{
		TraceID: sc.TraceID().String(), SpanID: sc.SpanID().String(), Name: ro.Name(),
		Kind: ro.SpanKind().String(), Start: ro.StartTime(), End: ro.EndTime(),
		Attributes: attrs(ro.Attributes()),
	}
	if p := ro.Parent(); p.IsValid() {
		sp.ParentID = p.SpanID().String()
	}
	if r := ro.Resource(); r != nil {
		if v, ok := r.Set().Value(semconv.ServiceNameKey); ok {
			sp.Service = v.Emit()
		}
	}
	switch st := ro.Status(); st.Code {
	case codes.Ok:
		sp.Status = "ok"
	case codes.Error:
		sp.Status, sp.Message = "error", cut(st.Description)
	}
	for i, e := range ro.Events() {
		if i == maxEvents {
			break
		}
		sp.Events = append(sp.Events, Event{Name: cut(e.Name), Time: e.Time, Attributes: attrs(e.Attributes)})
	}
	for _, l := range ro.Links() {
		sp.Links = append(sp.Links, l.SpanContext.TraceID().String()+"-"+l.SpanContext.SpanID().String())
	}
	return sp
}

func attrs(kvs []attribute.KeyValue) map[string]string {
	if len(kvs) == 0 {
		return nil
	}
	m := make(map[string]string, min(len(kvs), maxAttrs))
	for i, kv := range kvs {
		if i == maxAttrs {
			break
		}
		m[string(kv.Key)] = cut(kv.Value.Emit())
	}
	return m
}

func cut(s string) string {
	if len(s) > maxAttrValue {
		return s[:maxAttrValue] + "…"
	}
	return s
}
