package funcbuild

import (
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// Modules whose presence in a function's go.mod makes the generated main
// put the trace context of each event into the context Handle gets: the
// OpenTelemetry API (so the function's own spans join the trace) and gRPC
// (so the Dapr SDK's calls, publish included, carry it as traceparent
// metadata). A function with neither gets no tracing code and no new
// dependency.
const (
	otelModule = "go.opentelemetry.io/otel"
	grpcModule = "google.golang.org/grpc"
)

// traceModules reports which of otelModule and grpcModule the function in
// dir requires, directly or as an indirect requirement.
func traceModules(dir string) (otel, grpc bool) {
	path := filepath.Join(dir, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return false, false
	}
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return false, false
	}
	for _, r := range f.Require {
		otel = otel || r.Mod.Path == otelModule
		grpc = grpc || r.Mod.Path == grpcModule
	}
	return otel, grpc
}

// Traced reports whether the generated main wraps Handle with the trace
// context of each event.
func (s signature) Traced() bool {
	return s.Invoke != InvokeHTTP && (s.OTel || s.GRPC)
}

// traceTemplate is the part of the generated main that gives Handle the
// trace context; it is parsed into mainTemplate as "trace".
const traceTemplate = `{{define "trace"}}
// The hop's trace context (the traceparent and tracestate headers) rides
// inside the event as these extensions from hopTrace, which sees the
// request, to withTrace, which sees the event the CloudEvents SDK decoded
// from it, and is removed before Handle sees the event.
const (
	hopParent = "funcdtraceparent"
	hopState  = "funcdtracestate"
)

// hopTrace hands a binary-mode request's traceparent and tracestate
// headers to withTrace inside the event.
func hopTrace(h nethttp.Handler) nethttp.Handler {
	return nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		if r.Header.Get("ce-specversion") != "" {
			r.Header.Del("ce-" + hopParent)
			r.Header.Del("ce-" + hopState)
			if tp := r.Header.Get("traceparent"); tp != "" {
				r.Header.Set("ce-"+hopParent, tp)
				if ts := r.Header.Get("tracestate"); ts != "" {
					r.Header.Set("ce-"+hopState, ts)
				}
			}
		}
		h.ServeHTTP(w, r)
	})
}

// withTrace returns ctx carrying the hop's trace context, else the
// event's own (its distributed-tracing extension).
func withTrace(ctx context.Context, e *event.Event) context.Context {
	ext := e.Extensions()
	tp, _ := ext[hopParent].(string)
	ts, _ := ext[hopState].(string)
	if _, ok := ext[hopParent]; ok {
		e.SetExtension(hopParent, nil)
		e.SetExtension(hopState, nil)
	} else {
		tp, _ = ext["traceparent"].(string)
		ts, _ = ext["tracestate"].(string)
	}
	if tp == "" {
		return ctx
	}
{{- if .OTel}}
	ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp, "tracestate": ts})
{{- end}}
{{- if .GRPC}}
	kv := []string{"traceparent", tp}
	if ts != "" {
		kv = append(kv, "tracestate", ts)
	}
	ctx = metadata.AppendToOutgoingContext(ctx, kv...)
{{- end}}
	return ctx
}
{{end}}`

// traceTemplateKey is traceTemplate's part of scaffoldKey.
var traceTemplateKey = strings.TrimSpace(traceTemplate)
