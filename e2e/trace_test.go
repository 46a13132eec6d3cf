package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/tracing"
)

// TestOrderTrace follows one order through the real funcd and the real
// functions: a curl-like request to checkout carrying a traceparent, the
// publish, the time in the topic and a delivery to order-processor that
// fails twice (FAIL_FIRST=2) before it succeeds. funcd and both functions
// export their spans to a real Jaeger (v2, built from the module proxy),
// and the trace read back from Jaeger's query API is one tree: each hop
// parented to the one before, each function's own span under the hop that
// called it. funcd's in-memory store holds the same spans of its own, and
// funcd trace draws every attempt.
func TestOrderTrace(t *testing.T) {
	components := t.TempDir()
	writeComponents(t, components)
	jg := startJaeger(t)
	f := startFuncd(t, components, t.TempDir(), []string{"FAIL_FIRST=2",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + jg.otlp, "OTEL_BSP_SCHEDULE_DELAY=100"})

	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		caller  = "00f067aa0ba902b7"
	)
	headers := map[string]string{"ce-specversion": "1.0", "ce-id": "trace-order-1", "ce-source": "/e2e",
		"ce-type": "com.example.order", "traceparent": "00-" + traceID + "-" + caller + "-01"}
	body := `{"orderId":1,"customerName":"Ada","amount":42.5,"status":"Pending"}`
	if status, got := post(t, f.gateway+"/checkout", "application/json", body, headers); status != http.StatusOK {
		t.Fatalf("checkout: got %d %q, want 200", status, got)
	}
	waitFor(t, 30*time.Second, "order 1 in order-processor's log", func() bool { return f.received()[1] == 1 })

	funcdSpans := []string{"POST /checkout", "invoke checkout", "publish orders", "wait orders", "process orders",
		"deliver order-processor", "deliver order-processor", "deliver order-processor"}
	local := waitSpans(t, "funcd's store", funcdSpans, func() tracing.Trace { return getTrace(t, f.gateway, traceID) })
	exported := waitSpans(t, "Jaeger", append(slices.Clone(funcdSpans), "checkout", "order-processor", "order-processor",
		"order-processor"), func() tracing.Trace { return jg.trace(t, traceID) })
	checkOrderHops(t, exported, caller)
	for _, sp := range local.Spans {
		if got := spanWithID(exported, sp.SpanID); got == nil || got.Name != sp.Name || got.ParentID != sp.ParentID || got.Service != "funcd" {
			t.Errorf("funcd's span %s %s (parent %s) is in Jaeger as %+v", sp.SpanID, sp.Name, sp.ParentID, got)
		}
	}

	// Both functions' log lines lead to the trace, and to their own span
	// of the handling that logged them.
	for _, fn := range []string{"checkout", "order-processor"} {
		var own []string
		for _, sp := range exported.Spans {
			if sp.Name == fn && sp.Status != "error" {
				own = append(own, sp.SpanID)
			}
		}
		if len(own) != 1 || !logsTrace(f.functionOutput(), fn, traceID+" span_id="+own[0]) {
			t.Errorf("no %s log line with trace_id=%s span_id=%v (its successful span):\n%s", fn, traceID, own, f.functionOutput())
		}
	}

	// Each hop's latency is in /metrics, with the trace as an exemplar.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.gateway+"/metrics", nil)
	req.Header.Set("Accept", "application/openmetrics-text; version=1.0.0")
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, hop := range []string{`hop="publish",target="orders"`, `hop="topic",target="orders"`,
		`hop="delivery",target="order-processor"`, `hop="function",target="order-processor"`} {
		if !strings.Contains(string(metrics), "funcd_hop_duration_seconds_count{"+hop+"}") {
			t.Errorf("/metrics has no funcd_hop_duration_seconds{%s}", hop)
		}
	}
	if !strings.Contains(string(metrics), `trace_id="`+traceID+`"`) {
		t.Errorf("/metrics (OpenMetrics) has no exemplar of trace %s", traceID)
	}

	out, err := exec.Command(funcdBin, "trace", "--url", f.gateway, traceID).CombinedOutput()
	if err != nil || strings.Count(string(out), "deliver order-processor") != 3 || !strings.Contains(string(out), "retried") {
		t.Errorf("funcd trace: %v, want a waterfall with 3 attempts, retried:\n%s", err, out)
	}
	t.Logf("funcd trace %s:\n%s", traceID, out)
	out, err = exec.Command(funcdBin, "traces", "--url", f.gateway).CombinedOutput()
	if err != nil || !strings.Contains(string(out), traceID) || !strings.Contains(string(out), "checkout,order-processor") {
		t.Errorf("funcd traces: %v, want the trace listed with both functions:\n%s", err, out)
	}
}

// logsTrace reports whether fn logged a line carrying "trace_id=" + id (a
// trace id, possibly followed by " span_id=" and a span id).
func logsTrace(out, fn, id string) bool {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, fn+" ") && strings.Contains(line, "trace_id="+id) {
			return true
		}
	}
	return false
}

func getTrace(t *testing.T, gateway, id string) tracing.Trace {
	t.Helper()
	tr, _, err := fetchTrace(gateway, id)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// fetchTrace gets trace id from the gateway's trace API; found is false
// when the gateway has no such trace (yet).
func fetchTrace(gateway, id string) (tr tracing.Trace, found bool, err error) {
	resp, err := httpClient.Get(gateway + tracing.ListPath + "/" + id)
	if err != nil {
		return tr, false, fmt.Errorf("get trace: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return tr, false, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		return tr, false, fmt.Errorf("decode trace: %w", err)
	}
	return tr, true, nil
}

// waitSpans polls get until the trace holds the spans named want, and
// returns it.
func waitSpans(t *testing.T, where string, want []string, get func() tracing.Trace) tracing.Trace {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	var tr tracing.Trace
	names := func() []string {
		var got []string
		for _, sp := range tr.Spans {
			got = append(got, sp.Name)
		}
		slices.Sort(got)
		return got
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		tr = get()
		if slices.Equal(names(), want) {
			return tr
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: trace %s has spans %v after 15s, want %v:\n%s", where, tr.TraceID, names(), want, dump(tr))
		}
	}
}

// checkOrderHops checks the parents, links, kinds, services and outcomes of
// the order's trace as every process exported it.
func checkOrderHops(t *testing.T, tr tracing.Trace, caller string) {
	t.Helper()
	one := func(name string) tracing.Span {
		t.Helper()
		var found []tracing.Span
		for _, sp := range tr.Spans {
			if sp.Name == name {
				found = append(found, sp)
			}
		}
		if len(found) != 1 {
			t.Fatalf("trace has %d %q spans, want 1:\n%s", len(found), name, dump(tr))
		}
		return found[0]
	}
	gw, invoke, checkout := one("POST /checkout"), one("invoke checkout"), one("checkout")
	publish, wait, process := one("publish orders"), one("wait orders"), one("process orders")
	for _, p := range []struct {
		name          string
		child, parent string
	}{
		{"gateway continues the caller's traceparent", gw.ParentID, caller},
		{"the call to checkout is the gateway's child", invoke.ParentID, gw.SpanID},
		{"checkout's own span is the call's child", checkout.ParentID, invoke.SpanID},
		{"checkout's publish joins its span through the Dapr SDK", publish.ParentID, checkout.SpanID},
		{"the time in the topic follows the publish", wait.ParentID, publish.SpanID},
		{"the delivery follows the publish", process.ParentID, publish.SpanID},
	} {
		if p.child != p.parent {
			t.Errorf("%s: got parent %s, want %s\n%s", p.name, p.child, p.parent, dump(tr))
		}
	}
	if !slices.Contains(process.Links, tr.TraceID+"-"+publish.SpanID) {
		t.Errorf("the delivery span links %v, want the publish span %s", process.Links, publish.SpanID)
	}
	for _, k := range []struct {
		sp            tracing.Span
		kind, service string
	}{{publish, "producer", "funcd"}, {process, "consumer", "funcd"}, {checkout, "server", "checkout"}} {
		if k.sp.Kind != k.kind || k.sp.Service != k.service {
			t.Errorf("%s is a %s span of %s, want %s of %s", k.sp.Name, k.sp.Kind, k.sp.Service, k.kind, k.service)
		}
	}
	if got := process.Attributes[string(tracing.OutcomeKey)]; got != "ack" {
		t.Errorf("delivery outcome: got %q, want ack", got)
	}
	checkAttempts(t, tr, process.SpanID)
}

// checkAttempts checks the delivery's attempts (retry, retry, ack), each
// the parent of order-processor's own span of that attempt.
func checkAttempts(t *testing.T, tr tracing.Trace, process string) {
	t.Helper()
	var got []string
	for _, sp := range tr.Spans {
		if sp.Name != "deliver order-processor" || sp.ParentID != process {
			continue
		}
		handled := "unhandled"
		for _, fn := range tr.Spans {
			if fn.Name == "order-processor" && fn.ParentID == sp.SpanID && fn.Service == "order-processor" && fn.Kind == "server" {
				handled = "handled " + cmp.Or(fn.Status, "unset")
			}
		}
		got = append(got, sp.Attributes[string(tracing.AttemptKey)]+":"+sp.Attributes[string(tracing.OutcomeKey)]+":"+handled)
	}
	slices.Sort(got)
	if want := []string{"1:retry:handled error", "2:retry:handled error", "3:ack:handled unset"}; !slices.Equal(got, want) {
		t.Errorf("delivery attempts: got %v, want %v\n%s", got, want, dump(tr))
	}
}

func spanWithID(tr tracing.Trace, id string) *tracing.Span {
	for i := range tr.Spans {
		if tr.Spans[i].SpanID == id {
			return &tr.Spans[i]
		}
	}
	return nil
}

func dump(tr tracing.Trace) string {
	var b strings.Builder
	for _, sp := range tr.Spans {
		fmt.Fprintf(&b, "  %s %s/%s parent=%s kind=%s status=%s %v links=%v\n", sp.SpanID, sp.Service, sp.Name, sp.ParentID,
			sp.Kind, sp.Status, sp.Attributes, sp.Links)
	}
	return b.String()
}
