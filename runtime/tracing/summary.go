package tracing

import (
	"slices"
	"strconv"
	"time"
)

// Summarize describes t in one line: its root span, the functions it
// reached, how long it took and how it ended.
func Summarize(t Trace) Summary {
	s := Summary{TraceID: t.TraceID, Spans: len(t.Spans), Outcome: Outcome(t.Spans)}
	if len(t.Spans) == 0 {
		return s
	}
	ids := make(map[string]bool, len(t.Spans))
	for _, sp := range t.Spans {
		ids[sp.SpanID] = true
	}
	start, end := t.Spans[0].Start, t.Spans[0].End
	for _, sp := range t.Spans {
		if s.Root == "" && !ids[sp.ParentID] {
			s.Root = sp.Name
		}
		if fn := sp.Attributes[string(FunctionKey)]; fn != "" && !slices.Contains(s.Functions, fn) {
			s.Functions = append(s.Functions, fn)
		}
		if sp.Start.Before(start) {
			start = sp.Start
		}
		if sp.End.After(end) {
			end = sp.End
		}
	}
	s.Start, s.Duration = start, end.Sub(start)
	return s
}

// Outcome is how the spans ended: "dead-lettered" when a delivery was,
// "error" when a span failed for good, "retried" when a delivery needed more
// than one attempt, "ok" otherwise.
func Outcome(spans []Span) string {
	var failed, retried bool
	for _, sp := range spans {
		outcome := sp.Attributes[string(OutcomeKey)]
		if outcome == "dead-letter" || hasEvent(sp, EventDeadLettered) {
			return "dead-lettered"
		}
		if sp.Status == "error" && outcome != "retry" {
			failed = true
		}
		if n, _ := strconv.Atoi(sp.Attributes[string(AttemptKey)]); n > 1 {
			retried = true
		}
	}
	switch {
	case failed:
		return "error"
	case retried:
		return "retried"
	}
	return "ok"
}

func hasEvent(sp Span, name string) bool {
	return slices.ContainsFunc(sp.Events, func(e Event) bool { return e.Name == name })
}

// ordered returns the spans depth first from the roots, children by start
// time, with each span's depth.
func ordered(spans []Span) ([]Span, []int) {
	byParent := map[string][]Span{}
	ids := map[string]bool{}
	for _, sp := range spans {
		ids[sp.SpanID] = true
	}
	var roots []Span
	for _, sp := range spans {
		parent := sp.ParentID
		if !ids[parent] || parent == sp.SpanID {
			parent = enclosingCall(spans, sp)
		}
		if parent != "" {
			byParent[parent] = append(byParent[parent], sp)
		} else {
			roots = append(roots, sp)
		}
	}
	var out []Span
	var depth []int
	seen := map[string]bool{}
	var walk func(sp Span, d int)
	walk = func(sp Span, d int) {
		if seen[sp.SpanID] { // a cycle in a malformed trace
			return
		}
		seen[sp.SpanID] = true
		out, depth = append(out, sp), append(depth, d)
		kids := byParent[sp.SpanID]
		slices.SortStableFunc(kids, func(a, b Span) int { return a.Start.Compare(b.Start) })
		for _, k := range kids {
			walk(k, d+1)
		}
	}
	slices.SortStableFunc(roots, func(a, b Span) int { return a.Start.Compare(b.Start) })
	for _, r := range roots {
		walk(r, 0)
	}
	return out, depth
}

// enclosingCall returns the client span (a call to a function) that
// encloses sp in time, the innermost one, when sp has a parent that is not
// among spans: a span of funcd's whose parent is a function's own span
// (checkout's publish under checkout's span, exported by the function to
// an OTLP backend only) is drawn under the call to that function rather
// than as a root. Client spans themselves are never placed so, which keeps
// the tree free of cycles.
func enclosingCall(spans []Span, sp Span) string {
	if sp.ParentID == "" || sp.Kind == "client" {
		return ""
	}
	var best *Span
	for i := range spans {
		c := &spans[i]
		if c.Kind == "client" && c.SpanID != sp.SpanID && !c.Start.After(sp.Start) && !c.End.Before(sp.End) &&
			(best == nil || c.Start.After(best.Start)) {
			best = c
		}
	}
	if best == nil {
		return ""
	}
	return best.SpanID
}

// round keeps durations readable: µs under 1ms, 0.1ms under 1s, ms after.
func round(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < time.Second:
		return d.Round(100 * time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
