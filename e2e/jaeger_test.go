package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/tracing"
)

var jaegerTool = realTool{name: "jaeger", env: "JAEGER", module: "github.com/jaegertracing/jaeger"}

// jaeger is a real Jaeger v2 (an OpenTelemetry Collector with Jaeger's
// in-memory storage and query API) that a test started on free ports.
type jaeger struct {
	proc  *proc
	otlp  string // OTLP/HTTP receiver, for OTEL_EXPORTER_OTLP_ENDPOINT
	query string // query service: api/v3 and the UI
}

// jaegerConfig is the collector configuration of the test's Jaeger: the
// all-in-one's otlp receiver, memory storage and query extension, with
// every listener on a port of the test's choosing and no telemetry of its
// own (no fixed metrics port, no self-tracing).
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      memstore:
        memory:
          max_traces: 10000
  jaeger_query:
    storage:
      traces: memstore
    enable_tracing: false
    http:
      endpoint: %s
    grpc:
      endpoint: %s
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
exporters:
  jaeger_storage_exporter:
    trace_storage: memstore
`

// startJaeger runs Jaeger with jaegerConfig until the test ends, and waits
// until both its OTLP receiver and its query API answer.
func startJaeger(t *testing.T) *jaeger {
	t.Helper()
	bin := jaegerTool.need(t)
	dir := t.TempDir()
	otlp, query, grpc := addr(freePort(t)), addr(freePort(t)), addr(freePort(t))
	cfg := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, query, grpc, otlp), 0o644); err != nil {
		t.Fatal(err)
	}
	j := &jaeger{otlp: "http://" + otlp, query: "http://" + query}
	j.proc = startProc(t, "jaeger", dir, nil, bin, "--config", cfg)
	waitHTTP(t, j.proc, j.query+"/api/v3/services", http.StatusOK, time.Minute)
	waitHTTP(t, j.proc, j.otlp+"/v1/traces", http.StatusMethodNotAllowed, time.Minute)
	return j
}

// otlpSpan is a span as Jaeger's api/v3 returns it: OTLP JSON, ids in hex.
type otlpSpan struct {
	TraceID      string     `json:"traceId"`
	SpanID       string     `json:"spanId"`
	ParentSpanID string     `json:"parentSpanId"`
	Name         string     `json:"name"`
	Kind         int        `json:"kind"`
	Attributes   []otlpAttr `json:"attributes"`
	Status       struct {
		Code int `json:"code"` // 1 ok, 2 error
	} `json:"status"`
	Links []struct {
		TraceID string `json:"traceId"`
		SpanID  string `json:"spanId"`
	} `json:"links"`
}

type otlpAttr struct {
	Key   string `json:"key"`
	Value struct {
		String *string `json:"stringValue"`
		Int    *string `json:"intValue"` // int64 is a string in OTLP JSON
	} `json:"value"`
}

// otlpKinds names OTLP's span kinds as funcd's store does.
var otlpKinds = []string{"unspecified", "internal", "server", "client", "producer", "consumer"}

// span converts sp, sent by service, to funcd's model of a span.
func (sp otlpSpan) span(service string) tracing.Span {
	out := tracing.Span{TraceID: sp.TraceID, SpanID: sp.SpanID, ParentID: sp.ParentSpanID, Name: sp.Name,
		Service: service, Attributes: attrs(sp.Attributes)}
	switch sp.Status.Code {
	case 1:
		out.Status = "ok"
	case 2:
		out.Status = "error"
	}
	if sp.Kind >= 0 && sp.Kind < len(otlpKinds) {
		out.Kind = otlpKinds[sp.Kind]
	}
	for _, l := range sp.Links {
		out.Links = append(out.Links, l.TraceID+"-"+l.SpanID)
	}
	return out
}

// attrs returns the string and integer attributes as text.
func attrs(in []otlpAttr) map[string]string {
	out := map[string]string{}
	for _, a := range in {
		switch {
		case a.Value.String != nil:
			out[a.Key] = *a.Value.String
		case a.Value.Int != nil:
			out[a.Key] = *a.Value.Int
		}
	}
	return out
}

// trace reads trace id back through Jaeger's api/v3, with each span's
// service.name; no spans yet is an empty trace.
func (j *jaeger) trace(t *testing.T, id string) tracing.Trace {
	t.Helper()
	resp, err := httpClient.Get(j.query + "/api/v3/traces/" + id)
	if err != nil {
		t.Fatalf("jaeger api/v3: %v", err)
	}
	defer resp.Body.Close()
	tr := tracing.Trace{TraceID: id}
	if resp.StatusCode == http.StatusNotFound {
		return tr
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jaeger api/v3 trace %s: %s", id, resp.Status)
	}
	var body struct {
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
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode jaeger api/v3 trace %s: %v", id, err)
	}
	for _, rs := range body.Result.ResourceSpans {
		svc := attrs(rs.Resource.Attributes)["service.name"]
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				tr.Spans = append(tr.Spans, sp.span(svc))
			}
		}
	}
	return tr
}
