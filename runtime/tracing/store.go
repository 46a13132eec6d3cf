package tracing

import (
	"context"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
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
//
// Spans are kept as the SDK hands them over (an immutable snapshot) and
// converted when a trace is read: every order ends several spans, and
// traces are read rarely. A span beyond the bounds (a long attribute value
// or status, too many attributes or events) is converted, and so cut, at
// once, so what the Store holds stays bounded.
type Store struct {
	maxTraces, maxSpans int

	mu     sync.Mutex
	traces map[trace.TraceID]*kept
	// order holds the trace ids, a ring of maxTraces once full: the
	// oldest is at oldest.
	order  []trace.TraceID
	oldest int
}

// kept is one trace as the Store holds it.
type kept struct {
	spans   []keptSpan
	dropped int
}

// keptSpan is a span as the SDK ended it, or converted when it was beyond
// the Store's bounds.
type keptSpan struct {
	ro        sdktrace.ReadOnlySpan
	converted *Span
}

func (k keptSpan) span() Span {
	if k.converted != nil {
		return *k.converted
	}
	return convert(k.ro)
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
	return &Store{maxTraces: maxTraces, maxSpans: maxSpans, traces: map[trace.TraceID]*kept{}}
}

// OnEnd records a finished span.
func (s *Store) OnEnd(ro sdktrace.ReadOnlySpan) {
	k := keptSpan{ro: ro}
	if !withinBounds(ro) {
		sp := convert(ro)
		k = keptSpan{converted: &sp}
	}
	id := ro.SpanContext().TraceID()
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.traces[id]
	if !ok {
		if len(s.order) < s.maxTraces {
			s.order = append(s.order, id)
		} else {
			delete(s.traces, s.order[s.oldest])
			s.order[s.oldest] = id
			s.oldest = (s.oldest + 1) % len(s.order)
		}
		t = &kept{}
		s.traces[id] = t
	}
	if len(t.spans) >= s.maxSpans {
		t.dropped++
		return
	}
	t.spans = append(t.spans, k)
}

// Compact converts every span the Store still holds as the SDK's snapshot,
// in fresh allocations made together, and drops the snapshots. Kept while
// traffic runs, the snapshots of the latest traces were allocated among
// the garbage of every event of their time, and each keeps the heap's
// spans around it in use after a collection (a minute after 100,000 orders
// the heap held twice as much as its objects needed). Run once traffic
// stops, Compact lets the collection that follows give those back. It
// converts without holding the Store (some milliseconds for full bounds),
// so spans that end meanwhile are not held up; a trace that changed
// meanwhile is left as it is.
func (s *Store) Compact() {
	type snapshot struct {
		t     *kept
		spans []keptSpan // as long as t's when taken; OnEnd only appends
	}
	s.mu.Lock()
	snaps := make(map[trace.TraceID]snapshot, len(s.traces))
	for id, t := range s.traces {
		snaps[id] = snapshot{t: t, spans: t.spans[:len(t.spans):len(t.spans)]}
	}
	s.mu.Unlock()

	compacted := make(map[trace.TraceID][]keptSpan, len(snaps))
	for id, snap := range snaps {
		if !slices.ContainsFunc(snap.spans, func(k keptSpan) bool { return k.converted == nil }) {
			continue // compacted before
		}
		spans := make([]keptSpan, len(snap.spans))
		for i, k := range snap.spans {
			if k.converted == nil {
				sp := convert(k.ro)
				k = keptSpan{converted: &sp}
			}
			spans[i] = k
		}
		compacted[id] = spans
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	traces := make(map[trace.TraceID]*kept, len(s.traces))
	for id, t := range s.traces {
		if spans, ok := compacted[id]; ok && snaps[id].t == t && len(t.spans) == len(spans) {
			t = &kept{spans: spans, dropped: t.dropped}
		}
		traces[id] = t
	}
	s.traces = traces
	s.order = slices.Clone(s.order)
}

// withinBounds reports whether ro holds no more than convert keeps.
func withinBounds(ro sdktrace.ReadOnlySpan) bool {
	short := func(kvs []attribute.KeyValue) bool {
		if len(kvs) > maxAttrs {
			return false
		}
		for _, kv := range kvs {
			switch kv.Value.Type() {
			case attribute.BOOL, attribute.INT64, attribute.FLOAT64:
			case attribute.STRING:
				if len(kv.Value.AsString()) > maxAttrValue {
					return false
				}
			default: // slices: how long their text is is known once built
				return false
			}
		}
		return true
	}
	if !short(ro.Attributes()) || len(ro.Name()) > maxAttrValue || len(ro.Status().Description) > maxAttrValue ||
		len(ro.Events()) > maxEvents || len(ro.Links()) > maxEvents {
		return false
	}
	for _, e := range ro.Events() {
		if !short(e.Attributes) || len(e.Name) > maxAttrValue {
			return false
		}
	}
	return true
}

// OnStart, Shutdown and ForceFlush do nothing: spans are kept on end.
func (s *Store) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (s *Store) Shutdown(context.Context) error                  { return nil }
func (s *Store) ForceFlush(context.Context) error                { return nil }

// Trace returns a copy of the trace with id, its spans by start time.
func (s *Store) Trace(id string) (Trace, bool) {
	tid, err := trace.TraceIDFromHex(id)
	if err != nil {
		return Trace{}, false
	}
	return s.trace(tid)
}

func (s *Store) trace(id trace.TraceID) (Trace, bool) {
	s.mu.Lock()
	t, ok := s.traces[id]
	var spans []keptSpan
	var dropped int
	if ok {
		spans, dropped = slices.Clone(t.spans), t.dropped
	}
	s.mu.Unlock()
	if !ok {
		return Trace{}, false
	}
	out := Trace{TraceID: id.String(), Spans: make([]Span, len(spans)), Dropped: dropped}
	for i, k := range spans {
		out.Spans[i] = k.span()
	}
	slices.SortStableFunc(out.Spans, func(a, b Span) int { return a.Start.Compare(b.Start) })
	return out, true
}

// List summarises up to limit traces, the most recent first.
func (s *Store) List(limit int) []Summary {
	s.mu.Lock()
	ids := slices.Concat(s.order[s.oldest:], s.order[:s.oldest]) // oldest first
	s.mu.Unlock()
	slices.Reverse(ids)
	var out []Summary
	for _, id := range ids {
		if limit > 0 && len(out) >= limit {
			break
		}
		if t, ok := s.trace(id); ok {
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
