package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// What Jaeger's api/v3 answers for GET /api/v3/traces/{id}: OTLP JSON (ids
// in hex), each span with its parent and its links apart. (The older
// /api/traces folds a parent that is also linked, as a consumer span links
// its producer, into one FOLLOWS_FROM reference, losing the parent.) A
// trace it does not have is {"error":{"httpCode":404,...}}.
type jaegerResponse struct {
	Result struct {
		ResourceSpans []struct {
			Resource struct {
				Attributes []otlpAttr `json:"attributes"`
			} `json:"resource"`
			ScopeSpans []struct {
				Spans []otlpSpan `json:"spans"`
			} `json:"scopeSpans"`
		} `json:"resourceSpans"`
	} `json:"result"`
	Error *struct {
		HTTPCode int    `json:"httpCode"`
		Message  string `json:"message"`
	} `json:"error"`
}

type otlpSpan struct {
	TraceID      string     `json:"traceId"`
	SpanID       string     `json:"spanId"`
	ParentSpanID string     `json:"parentSpanId"`
	Name         string     `json:"name"`
	Start        string     `json:"startTimeUnixNano"` // uint64 is a string in OTLP JSON
	End          string     `json:"endTimeUnixNano"`
	Attributes   []otlpAttr `json:"attributes"`
	Status       struct {
		Code int `json:"code"` // 1 ok, 2 error
	} `json:"status"`
	Links []struct {
		SpanID string `json:"spanId"`
	} `json:"links"`
}

type otlpAttr struct {
	Key   string         `json:"key"`
	Value map[string]any `json:"value"` // {"stringValue": ...}, {"intValue": "..."}, {"boolValue": ...}
}

// attrs returns attributes as text, whatever their type.
func attrs(in []otlpAttr) map[string]string {
	out := map[string]string{}
	for _, a := range in {
		for _, v := range a.Value {
			out[a.Key] = fmt.Sprint(v)
		}
	}
	return out
}

// span is one span of a trace as the checks and the waterfall read it.
type span struct {
	ID, Parent, Service, Name string
	Links                     []string // the span ids it links to
	Start                     time.Time
	Duration                  time.Duration
	Tags                      map[string]string // attributes; otel.status_code ERROR when it failed
}

// parseTrace reads a Jaeger api/v3 answer into the spans of trace id,
// sorted by start time. A trace Jaeger does not have yet is no error: no
// spans.
func parseTrace(body []byte, id string) ([]span, error) {
	var r jaegerResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("jaeger answer: %w: %.200s", err, body)
	}
	if r.Error != nil {
		if r.Error.HTTPCode == 404 {
			return nil, nil
		}
		return nil, fmt.Errorf("jaeger answer: %d %s", r.Error.HTTPCode, r.Error.Message)
	}
	var spans []span
	for _, rs := range r.Result.ResourceSpans {
		service := attrs(rs.Resource.Attributes)["service.name"]
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				if s.TraceID != id {
					continue
				}
				start, err := strconv.ParseInt(s.Start, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("span %s: start %q: %w", s.SpanID, s.Start, err)
				}
				end, err := strconv.ParseInt(s.End, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("span %s: end %q: %w", s.SpanID, s.End, err)
				}
				sp := span{ID: s.SpanID, Parent: s.ParentSpanID, Service: service, Name: s.Name,
					Start: time.Unix(0, start), Duration: time.Duration(end - start), Tags: attrs(s.Attributes)}
				if s.Status.Code == 2 {
					sp.Tags["otel.status_code"] = "ERROR"
				}
				for _, l := range s.Links {
					sp.Links = append(sp.Links, l.SpanID)
				}
				spans = append(spans, sp)
			}
		}
	}
	slices.SortStableFunc(spans, func(a, b span) int { return a.Start.Compare(b.Start) })
	return spans, nil
}

// find returns the first span (by start) that matches.
func find(spans []span, match func(span) bool) (span, bool) {
	for _, s := range spans {
		if match(s) {
			return s, true
		}
	}
	return span{}, false
}

// waterfall draws spans as a tree in time: offset from the first span,
// duration, service, the span indented under its parent, what it said
// (funcd's outcome and attempt, the HTTP status, an error), and a bar.
func waterfall(spans []span, width int) string {
	if len(spans) == 0 {
		return "(no spans)\n"
	}
	byID := map[string]bool{}
	children := map[string][]span{}
	t0, end := spans[0].Start, spans[0].Start
	for _, s := range spans {
		byID[s.ID] = true
		if e := s.Start.Add(s.Duration); e.After(end) {
			end = e
		}
	}
	var roots []span
	for _, s := range spans {
		if s.Parent != "" && byID[s.Parent] {
			children[s.Parent] = append(children[s.Parent], s)
		} else {
			roots = append(roots, s)
		}
	}
	total := max(end.Sub(t0), time.Millisecond)
	var b strings.Builder
	fmt.Fprintf(&b, "%-9s %-9s %-15s %-44s %-14s %s\n", "OFFSET", "DURATION", "SERVICE", "SPAN", "SAYS", "TIMELINE")
	var draw func(s span, depth int)
	draw = func(s span, depth int) {
		off := s.Start.Sub(t0)
		from := int(int64(width) * int64(off) / int64(total))
		n := max(1, int(int64(width)*int64(s.Duration)/int64(total)))
		from = min(from, width-1)
		n = min(n, width-from)
		bar := strings.Repeat(" ", from) + strings.Repeat("█", n) + strings.Repeat(" ", width-from-n)
		name := strings.Repeat("  ", depth) + s.Name
		if len(name) > 44 {
			name = name[:43] + "…"
		}
		fmt.Fprintf(&b, "%-9s %-9s %-15s %-44s %-14s |%s|\n", ms(off), ms(s.Duration), s.Service, name, says(s), bar)
		for _, c := range children[s.ID] {
			draw(c, depth+1)
		}
	}
	for _, r := range roots {
		draw(r, 0)
	}
	return b.String()
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// says is what a span reports about its outcome, in a few characters.
func says(s span) string {
	var parts []string
	if v := s.Tags["funcd.delivery.outcome"]; v != "" {
		parts = append(parts, v)
	}
	if v := s.Tags["funcd.delivery.attempt"]; v != "" {
		parts = append(parts, "#"+v)
	}
	for _, k := range []string{"http.response.status_code", "http.status_code"} {
		if v := s.Tags[k]; v != "" {
			parts = append(parts, v)
			break
		}
	}
	if v := s.Tags["rpc.grpc.status_code"]; v != "" && len(parts) == 0 {
		parts = append(parts, "grpc "+v)
	}
	if s.Tags["error"] == "true" || s.Tags["otel.status_code"] == "ERROR" {
		parts = append(parts, "error")
	}
	return strings.Join(parts, " ")
}

// A trace as Jaeger's api/v3 answers it, cut down from what the cluster
// test reads back: the daprd publish, wait, process and one deliver
// attempt, Knative's queue-proxy under it.
const jaegerFixture = `{"result":{"resourceSpans":[
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},"scopeSpans":[{"spans":[
{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"a1","parentSpanId":"00f067aa0ba902b7","name":"/dapr.proto.runtime.v1.Dapr/PublishEvent","startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000003000000","attributes":[{"key":"rpc.grpc.status_code","value":{"intValue":"0"}}],"status":{}}]}]},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"funcd-binding"}}]},"scopeSpans":[{"spans":[
{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"b2","parentSpanId":"a1","name":"process orders","startTimeUnixNano":"1700000000005000000","endTimeUnixNano":"1700000000905000000","attributes":[{"key":"funcd.delivery.outcome","value":{"stringValue":"ack"}}],"links":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"a1"}],"status":{}},
{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"c3","parentSpanId":"b2","name":"deliver order-processor","startTimeUnixNano":"1700000000006000000","endTimeUnixNano":"1700000000905000000","attributes":[{"key":"funcd.delivery.outcome","value":{"stringValue":"ack"}},{"key":"funcd.delivery.attempt","value":{"intValue":"1"}},{"key":"http.response.status_code","value":{"intValue":"200"}}],"status":{}},
{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"d4","parentSpanId":"a1","name":"wait orders","startTimeUnixNano":"1700000000003000000","endTimeUnixNano":"1700000000005000000","status":{}}]}]},
{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"order-processor"}}]},"scopeSpans":[{"spans":[
{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"e5","parentSpanId":"c3","name":"kn.queueproxy.proxy","startTimeUnixNano":"1700000000007000000","endTimeUnixNano":"1700000000887000000","status":{"code":2}}]}]}]}}`

func TestWaterfall(t *testing.T) {
	spans, err := parseTrace([]byte(jaegerFixture), "4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 5 || spans[0].Name != "/dapr.proto.runtime.v1.Dapr/PublishEvent" || spans[1].Name != "wait orders" {
		t.Fatalf("spans not read in start order: %+v", spans)
	}
	p, _ := find(spans, func(s span) bool { return s.Name == "process orders" })
	if p.Parent != "a1" || !slices.Equal(p.Links, []string{"a1"}) || p.Service != "funcd-binding" {
		t.Errorf("process span: parent %q links %v service %q", p.Parent, p.Links, p.Service)
	}
	got := waterfall(spans, 20)
	t.Log("\n" + got)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 6 {
		t.Fatalf("want a header and 5 spans:\n%s", got)
	}
	// Depth first, children by start: publish, wait, process, deliver, queue-proxy.
	for i, want := range []string{"/dapr.proto", "  wait orders", "  process orders", "    deliver order-processor", "      kn.queueproxy.proxy"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("line %d %q lacks %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[4], "ack #1 200") || !strings.Contains(lines[4], "6.0ms") {
		t.Errorf("deliver line: %q", lines[4])
	}
	if !strings.Contains(lines[5], "error") {
		t.Errorf("a failed span's line does not say error: %q", lines[5])
	}
	if spans, err := parseTrace([]byte(`{"error":{"httpCode":404,"message":"No traces found"}}`), "x"); err != nil || len(spans) != 0 {
		t.Errorf("a trace not there yet: %v %v", spans, err)
	}
}

// knativePath reports whether s descends from the span from, directly or
// through activator spans only (Knative's hops on the way to a pod).
func knativePath(spans []span, s span, from string) bool {
	byID := map[string]span{}
	for _, sp := range spans {
		byID[sp.ID] = sp
	}
	for p := s.Parent; ; {
		if p == from {
			return true
		}
		sp, ok := byID[p]
		if !ok || sp.Service != "activator" {
			return false
		}
		p = sp.Parent
	}
}

// TestKnativePath checks the way in as the cluster showed it with both
// functions at zero: caller -> activator POST -> activator_proxy -> POST / ->
// queue-proxy POST; and directly, with a pod up; a span of another service
// on the way is not Knative's.
func TestKnativePath(t *testing.T) {
	spans := []span{
		{ID: "a1", Parent: "caller", Service: "activator", Name: "POST"},
		{ID: "a2", Parent: "a1", Service: "activator", Name: "activator_proxy"},
		{ID: "a3", Parent: "a2", Service: "activator", Name: "POST /"},
		{ID: "q1", Parent: "a3", Service: "checkout", Name: "POST"},
		{ID: "q2", Parent: "caller", Service: "checkout", Name: "POST"},
		{ID: "h1", Parent: "caller", Service: "checkout", Name: "checkout"},
		{ID: "q3", Parent: "h1", Service: "checkout", Name: "POST"},
	}
	for _, tt := range []struct {
		id   string
		want bool
	}{{"q1", true}, {"q2", true}, {"q3", false}} {
		s, _ := find(spans, func(s span) bool { return s.ID == tt.id })
		if got := knativePath(spans, s, "caller"); got != tt.want {
			t.Errorf("knativePath(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}
