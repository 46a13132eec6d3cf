package cluster

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// What Jaeger's query API answers for GET /api/traces/{id} (the JSON of its
// UI, cmd/query/app/apiv3 aside): one trace, its spans with their process
// (service) and references.
type jaegerResponse struct {
	Data   []jaegerTrace `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

type jaegerTrace struct {
	TraceID   string                   `json:"traceID"`
	Spans     []jaegerSpan             `json:"spans"`
	Processes map[string]jaegerProcess `json:"processes"`
}

type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64 `json:"startTime"` // µs since the epoch
	Duration  int64 `json:"duration"`  // µs
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
}

type jaegerProcess struct {
	ServiceName string `json:"serviceName"`
}

// span is one span of a trace as the checks and the waterfall read it.
type span struct {
	ID, Parent, Service, Name string
	Links                     []string // FOLLOWS_FROM references
	Start                     time.Time
	Duration                  time.Duration
	Tags                      map[string]string
}

// parseTrace reads a Jaeger answer into the spans of trace id, sorted by
// start time. A trace Jaeger does not have yet is no error: no spans.
func parseTrace(body []byte, id string) ([]span, error) {
	var r jaegerResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("jaeger answer: %w: %.200s", err, body)
	}
	var spans []span
	for _, tr := range r.Data {
		if tr.TraceID != id {
			continue
		}
		for _, s := range tr.Spans {
			sp := span{ID: s.SpanID, Service: tr.Processes[s.ProcessID].ServiceName, Name: s.OperationName,
				Start: time.UnixMicro(s.StartTime), Duration: time.Duration(s.Duration) * time.Microsecond, Tags: map[string]string{}}
			for _, ref := range s.References {
				switch {
				case ref.RefType == "CHILD_OF" && sp.Parent == "":
					sp.Parent = ref.SpanID
				default:
					sp.Links = append(sp.Links, ref.SpanID)
				}
			}
			for _, tag := range s.Tags {
				sp.Tags[tag.Key] = fmt.Sprint(tag.Value)
			}
			spans = append(spans, sp)
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

// A trace as Jaeger answers it, cut down from what the cluster test reads
// back: the daprd publish, the binding's daprd callback, wait, process and
// one deliver attempt, Knative's activator under it.
const jaegerFixture = `{"data":[{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spans":[
{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1","operationName":"/dapr.proto.runtime.v1.Dapr/PublishEvent","references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"00f067aa0ba902b7"}],"startTime":1700000000000000,"duration":3000,"tags":[{"key":"rpc.grpc.status_code","type":"int64","value":0}],"processID":"p1"},
{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"b2","operationName":"process orders","references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1"},{"refType":"FOLLOWS_FROM","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1"}],"startTime":1700000000005000,"duration":900000,"tags":[{"key":"funcd.delivery.outcome","type":"string","value":"ack"}],"processID":"p2"},
{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"c3","operationName":"deliver order-processor","references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"b2"}],"startTime":1700000000006000,"duration":899000,"tags":[{"key":"funcd.delivery.outcome","type":"string","value":"ack"},{"key":"funcd.delivery.attempt","type":"int64","value":1},{"key":"http.response.status_code","type":"int64","value":200}],"processID":"p2"},
{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"d4","operationName":"pubsub/orders","references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"a1"}],"startTime":1700000000004000,"duration":200,"tags":[],"processID":"p2"},
{"traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"e5","operationName":"activator_proxy","references":[{"refType":"CHILD_OF","traceID":"4bf92f3577b34da6a3ce929d0e0e4736","spanID":"c3"}],"startTime":1700000000007000,"duration":880000,"tags":[],"processID":"p3"}],
"processes":{"p1":{"serviceName":"checkout"},"p2":{"serviceName":"funcd-binding"},"p3":{"serviceName":"activator"}}}],"errors":null}`

func TestWaterfall(t *testing.T) {
	spans, err := parseTrace([]byte(jaegerFixture), "4bf92f3577b34da6a3ce929d0e0e4736")
	if err != nil {
		t.Fatal(err)
	}
	if len(spans) != 5 || spans[0].Name != "/dapr.proto.runtime.v1.Dapr/PublishEvent" || spans[1].Name != "pubsub/orders" {
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
	// Depth first, children by start: publish, its callback, process, deliver, activator.
	for i, want := range []string{"/dapr.proto", "  pubsub/orders", "  process orders", "    deliver order-processor", "      activator_proxy"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("line %d %q lacks %q", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(lines[4], "ack #1 200") || !strings.Contains(lines[4], "6.0ms") {
		t.Errorf("deliver line: %q", lines[4])
	}
	if spans, err := parseTrace([]byte(`{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`), "x"); err != nil || len(spans) != 0 {
		t.Errorf("a trace not there yet: %v %v", spans, err)
	}
}
