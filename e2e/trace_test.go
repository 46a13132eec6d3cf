package e2e

import (
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
// fails twice (FAIL_FIRST=2) before it succeeds. All of it is one trace,
// each hop parented to the one before, and funcd trace draws every attempt.
func TestOrderTrace(t *testing.T) {
	components := t.TempDir()
	writeComponents(t, components)
	otlp := newOTLPReceiver(t)
	f := startFuncd(t, components, t.TempDir(), []string{"FAIL_FIRST=2",
		"OTEL_EXPORTER_OTLP_ENDPOINT=" + otlp.srv.URL, "OTEL_BSP_SCHEDULE_DELAY=100"})

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

	var tr tracing.Trace
	for deadline := time.Now().Add(10 * time.Second); spanNamed(tr, "process orders") == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			out, _ := exec.Command(funcdBin, "traces", "--url", f.gateway).CombinedOutput()
			t.Fatalf("no delivery span in trace %s after 10s:\n%s\nfuncd traces:\n%s", traceID, dump(tr), out)
		}
		tr = getTrace(t, f.gateway, traceID)
	}
	gw := spanNamed(tr, "POST /checkout")
	invoke := spanNamed(tr, "invoke checkout")
	publish := spanNamed(tr, "publish orders")
	wait := spanNamed(tr, "wait orders")
	process := spanNamed(tr, "process orders")
	for name, sp := range map[string]*tracing.Span{"gateway": gw, "invoke checkout": invoke, "publish": publish, "wait": wait} {
		if sp == nil {
			t.Fatalf("trace has no %s span:\n%s", name, dump(tr))
		}
	}
	parents := []struct {
		name          string
		child, parent string
	}{
		{"gateway continues the caller's traceparent", gw.ParentID, caller},
		{"the call to checkout is the gateway's child", invoke.ParentID, gw.SpanID},
		{"checkout's publish joins through the Dapr SDK", publish.ParentID, invoke.SpanID},
		{"the time in the topic follows the publish", wait.ParentID, publish.SpanID},
		{"the delivery follows the publish", process.ParentID, publish.SpanID},
	}
	for _, p := range parents {
		if p.child != p.parent {
			t.Errorf("%s: got parent %s, want %s\n%s", p.name, p.child, p.parent, dump(tr))
		}
	}
	if !slices.Contains(process.Links, traceID+"-"+publish.SpanID) {
		t.Errorf("the delivery span links %v, want the publish span %s", process.Links, publish.SpanID)
	}
	if publish.Kind != "producer" || process.Kind != "consumer" {
		t.Errorf("publish is %s, delivery is %s; want producer and consumer", publish.Kind, process.Kind)
	}
	var outcomes []string
	for _, sp := range tr.Spans {
		if sp.Name == "deliver order-processor" && sp.ParentID == process.SpanID {
			outcomes = append(outcomes, sp.Attributes[string(tracing.AttemptKey)]+":"+sp.Attributes[string(tracing.OutcomeKey)])
		}
	}
	if want := []string{"1:retry", "2:retry", "3:ack"}; !slices.Equal(outcomes, want) {
		t.Errorf("delivery attempts: got %v, want %v\n%s", outcomes, want, dump(tr))
	}
	if got := process.Attributes[string(tracing.OutcomeKey)]; got != "ack" {
		t.Errorf("delivery outcome: got %q, want ack", got)
	}

	// Both functions' log lines lead to the trace.
	for _, fn := range []string{"checkout", "order-processor"} {
		if !logsTrace(f.functionOutput(), fn, traceID) {
			t.Errorf("no %s log line with trace_id=%s:\n%s", fn, traceID, f.functionOutput())
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

	// The same spans reach an OTLP receiver.
	want := []string{"POST /checkout", "invoke checkout", "publish orders", "wait orders", "process orders",
		"deliver order-processor", "deliver order-processor", "deliver order-processor"}
	waitFor(t, 10*time.Second, "the trace at the OTLP receiver", func() bool {
		got := otlp.trace(traceID)
		slices.Sort(got)
		return len(got) == len(want)
	})
	got := otlp.trace(traceID)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) || !otlp.service("funcd") {
		t.Errorf("OTLP receiver got spans %v from funcd %v, want %v", got, otlp.service("funcd"), want)
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

// logsTrace reports whether fn logged a line carrying trace id.
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
	resp, err := httpClient.Get(gateway + tracing.ListPath + "/" + id)
	if err != nil {
		t.Fatalf("get trace: %v", err)
	}
	defer resp.Body.Close()
	var tr tracing.Trace
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
			t.Fatalf("decode trace: %v", err)
		}
	}
	return tr
}

func spanNamed(tr tracing.Trace, name string) *tracing.Span {
	for i := range tr.Spans {
		if tr.Spans[i].Name == name {
			return &tr.Spans[i]
		}
	}
	return nil
}

func dump(tr tracing.Trace) string {
	var b strings.Builder
	for _, sp := range tr.Spans {
		fmt.Fprintf(&b, "  %s %s parent=%s kind=%s %v\n", sp.SpanID, sp.Name, sp.ParentID, sp.Kind, sp.Attributes)
	}
	return b.String()
}
