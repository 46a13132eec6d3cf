//go:build cluster

package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// jaeger asks the query API of the Jaeger deploy/setup.sh TRACING=jaeger
// deployed, at its Service's cluster IP from inside the node's network
// namespace (where kube-proxy's rules answer it).
func (c *cluster) jaeger(t *testing.T, path string) ([]byte, error) {
	t.Helper()
	ip := c.kubectl(t, "get", "svc", "jaeger", "-o", "jsonpath={.spec.clusterIP}")
	cmd := exec.Command("nsenter", "--net=/run/netns/"+c.getenv("NODE_NETNS"), "--",
		"curl", "-sS", "-m", "10", fmt.Sprintf("http://%s:16686%s", ip, path))
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("curl jaeger %s: %v", path, err)
	}
	return out, nil
}

// traceSpans reads trace id from Jaeger until done says it is complete (or
// timeout), then once more after a pause for stragglers (each exporter
// batches for up to 5 s), and returns its spans.
func (c *cluster) traceSpans(t *testing.T, id string, timeout time.Duration, done func([]span) bool) []span {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var spans []span
	for {
		body, err := c.jaeger(t, "/api/v3/traces/"+id)
		if err == nil {
			if spans, err = parseTrace(body, id); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Log(err)
		}
		if done(spans) || time.Now().After(deadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	time.Sleep(10 * time.Second)
	if body, err := c.jaeger(t, "/api/v3/traces/"+id); err == nil {
		if more, err := parseTrace(body, id); err == nil && len(more) >= len(spans) {
			spans = more
		}
	}
	return spans
}

// The hops of one order whose spans the trace must hold, by who records
// them: checkout's own span (continuing the event's ce-traceparent: func's
// scaffold gives Handle no trace context), daprd next to checkout (its
// publish API call), the binding (the delivery, and the attempt that
// order-processor acknowledged), order-processor's own span. daprd next to
// the binding records no span of a streaming subscription's delivery
// (daprd 1.16's postman/streaming has none), so the binding's spans follow
// daprd's publish directly.
var traceHops = []struct {
	name  string
	match func(span) bool
}{
	{"checkout: Handle", func(s span) bool {
		return s.Service == "checkout" && s.Name == "checkout"
	}},
	{"daprd (checkout): publish", func(s span) bool {
		return s.Service == "checkout" && strings.Contains(s.Name, "PublishEvent")
	}},
	{"binding: process orders", func(s span) bool {
		return s.Service == "funcd-binding" && s.Name == "process orders"
	}},
	{"binding: deliver order-processor, acknowledged", func(s span) bool {
		return s.Service == "funcd-binding" && s.Name == "deliver order-processor" && s.Tags["funcd.delivery.outcome"] == "ack"
	}},
	{"order-processor: Handle", func(s span) bool {
		return s.Service == "order-processor" && s.Name == "order-processor"
	}},
}

// oneTrace: one curl to checkout with a traceparent of the test's own (as
// the traceparent header, which Knative's hops continue, and as the event's
// ce-traceparent extension, which checkout continues: func's scaffold gives
// Handle no trace context) becomes one trace in Jaeger, read back from its
// api/v3: checkout's Handle continues the caller's span, daprd's publish is
// its child, the binding's delivery the publish's, the acknowledged attempt
// the delivery's, order-processor's Handle the publish's (ce-traceparent);
// queue-proxy continues the caller's span into checkout and the attempt
// into order-processor; order-processor logs the same trace id. Other
// spans (the activator's, where a request went through it) are reported.
func oneTrace(t *testing.T, c *cluster) {
	if got := c.kubectl(t, "get", "deployment", "jaeger", "-o", "jsonpath={.status.readyReplicas}"); got != "1" {
		t.Fatalf("setup.sh TRACING=jaeger: Jaeger has %q ready replicas", got)
	}
	for fn, want := range map[string]string{"checkout": "tracing", "funcd-binding": "tracing", "order-processor": ""} {
		if got := c.kubectl(t, "get", "ksvc", fn, "-o", `jsonpath={.spec.template.metadata.annotations.dapr\.io/config}`); got != want {
			t.Errorf("ksvc %s dapr.io/config %q, want %q", fn, got, want)
		}
	}
	tid, parent := randomHex(16), randomHex(8)
	tp := "00-" + tid + "-" + parent + "-01"
	id := c.nextOrder()
	sent := time.Now()
	c.timeline.Mark("order %d sent with traceparent %s", id, tp)
	if status := c.order(t, id, "traceparent: "+tp, "ce-traceparent: "+tp); status != 200 {
		t.Fatalf("checkout answered %d to order %d, want 200", status, id)
	}
	got := c.logs.wait(t, id, 2*time.Minute)
	c.timeline.Mark("order %d logged by order-processor %.1fs after the curl", id, got.Sub(sent).Seconds())
	if ids := c.logs.traceIDs(id); !slices.Contains(ids, tid) {
		t.Errorf("order-processor logged order %d with trace ids %v, want %s", id, ids, tid)
	}

	spans := c.traceSpans(t, tid, 2*time.Minute, func(spans []span) bool {
		for _, h := range traceHops {
			if _, ok := find(spans, h.match); !ok {
				return false
			}
		}
		return true
	})
	c.timeline.Mark("trace %s read back from Jaeger: %d spans", tid, len(spans))
	t.Logf("trace %s as Jaeger has it (caller's span %s):\n%s", tid, parent, waterfall(spans, 40))

	hop := map[string]span{}
	for _, h := range traceHops {
		s, ok := find(spans, h.match)
		if !ok {
			t.Errorf("no span of %s in the trace", h.name)
			continue
		}
		hop[h.name] = s
	}
	if t.Failed() {
		return
	}
	handle, publish := hop[traceHops[0].name], hop[traceHops[1].name]
	process, deliver, processor := hop[traceHops[2].name], hop[traceHops[3].name], hop[traceHops[4].name]
	for _, p := range []struct {
		what          string
		child, parent string
	}{
		{"checkout's Handle continues the caller's span (ce-traceparent)", handle.Parent, parent},
		{"daprd's publish is checkout's Handle's child", publish.Parent, handle.ID},
		{"process orders is the publish's child", process.Parent, publish.ID},
		{"deliver is process's child", deliver.Parent, process.ID},
		{"order-processor's Handle continues the event's ce-traceparent: the publish", processor.Parent, publish.ID},
	} {
		if p.child != p.parent {
			t.Errorf("%s: parent %s, want %s", p.what, p.child, p.parent)
		}
	}
	if !slices.Contains(process.Links, publish.ID) {
		t.Errorf("process orders does not link to the publish (messaging conventions): links %v", process.Links)
	}

	// Knative's way in (config-observability): queue-proxy's server span
	// continues the caller's span into checkout and the binding's delivery
	// into order-processor, directly or, when the function was at zero,
	// through the activator's spans. Everything else is reported.
	for _, k := range []struct {
		what, service, from string
	}{
		{"queue-proxy in checkout's pod under the caller's span", "checkout", parent},
		{"queue-proxy in order-processor's pod under the binding's delivery", "order-processor", deliver.ID},
	} {
		if _, ok := find(spans, func(s span) bool {
			return s.Service == k.service && s.Name == "POST" && knativePath(spans, s, k.from)
		}); !ok {
			t.Errorf("no span of %s", k.what)
		}
	}
	matched := map[string]bool{}
	for _, h := range hop {
		matched[h.ID] = true
	}
	others := map[string][]string{}
	for _, s := range spans {
		if !matched[s.ID] {
			others[s.Service] = append(others[s.Service], s.Name)
		}
	}
	services := make([]string, 0, len(others))
	for svc := range others {
		services = append(services, svc)
	}
	sort.Strings(services)
	for _, svc := range services {
		c.timeline.Mark("trace %s: %s's other spans: %s", tid, svc, strings.Join(others[svc], "; "))
	}
}

// tracingOff: setup.sh run without TRACING after a run with it took
// tracing away again: no Configuration, no Jaeger, no Knative tracing
// settings, no dapr.io/config on the functions.
func tracingOff(t *testing.T, c *cluster) {
	if got := c.kubectl(t, "get", "configuration.dapr.io,deployment,service,configmap", "-l", "funcd.dev/tracing", "-o", "name"); got != "" {
		t.Errorf("after setup.sh without TRACING, still there:\n%s", got)
	}
	if got := c.kubectl(t, "get", "configmap", "config-observability", "-n", "knative-serving", "-o", `jsonpath={.data.tracing-endpoint}`); got != "" {
		t.Errorf("after setup.sh without TRACING, Knative still traces to %s", got)
	}
	if got := c.kubectl(t, "get", "ksvc", "checkout", "-o", `jsonpath={.spec.template.metadata.annotations.dapr\.io/config}`); got != "" {
		t.Errorf("after setup.sh without TRACING, checkout names Configuration %q", got)
	}
	c.timeline.Mark("setup.sh without TRACING: tracing taken away again (Configuration, Jaeger, Knative's settings)")
}
