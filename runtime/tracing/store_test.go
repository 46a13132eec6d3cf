package tracing

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// record makes one trace per root with n children each.
func record(t *testing.T, store *Store, roots, children int) []string {
	t.Helper()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	tr := tp.Tracer("test")
	var ids []string
	for range roots {
		ctx, root := tr.Start(context.Background(), "POST /checkout")
		for i := range children {
			_, c := tr.Start(ctx, "deliver order-processor", trace.WithAttributes(
				FunctionKey.String("order-processor"), AttemptKey.Int(i+1), OutcomeKey.String("retry")))
			c.End()
		}
		root.End()
		ids = append(ids, root.SpanContext().TraceID().String())
	}
	return ids
}

func TestStoreBounds(t *testing.T) {
	store := NewStore(3, 4)
	ids := record(t, store, 5, 10)
	list := store.List(0)
	if len(list) != 3 {
		t.Fatalf("got %d traces, want the 3 most recent", len(list))
	}
	var got []string
	for _, s := range list {
		got = append(got, s.TraceID)
	}
	if want := []string{ids[4], ids[3], ids[2]}; !slices.Equal(got, want) {
		t.Errorf("got %v, want newest first %v", got, want)
	}
	if _, ok := store.Trace(ids[0]); ok {
		t.Errorf("oldest trace %s still kept", ids[0])
	}
	tr, _ := store.Trace(ids[4])
	if len(tr.Spans) != 4 || tr.Dropped != 7 {
		t.Errorf("got %d spans, %d dropped; want 4 kept, 7 dropped", len(tr.Spans), tr.Dropped)
	}
}

func TestSummaryAndWaterfall(t *testing.T) {
	store := NewStore(0, 0)
	id := record(t, store, 1, 3)[0]
	tr, ok := store.Trace(id)
	if !ok {
		t.Fatal("trace not kept")
	}
	s := Summarize(tr)
	if s.Root != "POST /checkout" || s.Outcome != "retried" || len(s.Functions) != 1 || s.Spans != 4 {
		t.Errorf("got %+v, want root POST /checkout, retried, order-processor, 4 spans", s)
	}
	var b strings.Builder
	if err := Waterfall(&b, tr); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Count(out, "  deliver order-processor") != 3 || !strings.Contains(out, "POST /checkout") {
		t.Errorf("waterfall lacks the root or the three indented attempts:\n%s", out)
	}
}

func TestHandlers(t *testing.T) {
	store := NewStore(0, 0)
	id := record(t, store, 2, 1)[1]
	mux := http.NewServeMux()
	mux.Handle("GET "+ListPath, store.ListHandler())
	mux.Handle("GET "+TracePath, store.TraceHandler())
	tests := []struct {
		name, path string
		status     int
		want       string
	}{
		{"list", ListPath, 200, id},
		{"list limited", ListPath + "?limit=1", 200, id},
		{"bad limit", ListPath + "?limit=0", 400, "limit"},
		{"huge limit", ListPath + "?limit=99999", 400, "limit"},
		{"trace", ListPath + "/" + id, 200, `"spans"`},
		{"bad id", ListPath + "/xyz", 400, "32 lowercase hex"},
		{"unknown", ListPath + "/0123456789abcdef0123456789abcdef", 404, "no trace"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tt.path, nil))
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("got %d %s, want %d containing %q", rec.Code, rec.Body, tt.status, tt.want)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("answer is not JSON: %s", rec.Body)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	env := map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}
	cfg := ConfigFromEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "http/json") {
		t.Errorf("got %v, want an error naming http/json", err)
	}
	if _, err := New(context.Background(), cfg); err == nil {
		t.Error("New accepted an unsupported protocol")
	}
}

// TestWaterfallPlacesRemoteChildrenUnderTheCall checks that a span whose
// parent is another process's span (kept by an OTLP backend, not by the
// store) is drawn under the client call that encloses it, not as a root.
func TestWaterfallPlacesRemoteChildrenUnderTheCall(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	tr := Trace{TraceID: "t", Spans: []Span{
		{SpanID: "gw", ParentID: "caller", Name: "POST /checkout", Kind: "server", Start: at(0), End: at(100)},
		{SpanID: "inv", ParentID: "gw", Name: "invoke checkout", Kind: "client", Start: at(10), End: at(90)},
		{SpanID: "pub", ParentID: "checkouts-own", Name: "publish orders", Kind: "producer", Start: at(20), End: at(30)},
		{SpanID: "wait", ParentID: "pub", Name: "wait orders", Kind: "internal", Start: at(30), End: at(40)},
		{SpanID: "late", ParentID: "elsewhere", Name: "publish late", Kind: "producer", Start: at(95), End: at(99)},
	}}
	spans, depth := ordered(tr.Spans)
	var got []string
	for i, sp := range spans {
		got = append(got, fmt.Sprintf("%d %s", depth[i], sp.SpanID))
	}
	want := []string{"0 gw", "1 inv", "2 pub", "3 wait", "0 late"}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestStoreCutsWhatIsBeyondBounds: a span beyond the Store's bounds is
// kept cut (converted on end); one within them is kept whole.
func TestStoreCutsWhatIsBeyondBounds(t *testing.T) {
	store := NewStore(0, 0)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	long := strings.Repeat("x", 3*maxAttrValue)
	var many []attribute.KeyValue
	for i := range maxAttrs + 8 {
		many = append(many, attribute.Int(fmt.Sprintf("a%02d", i), i))
	}
	tests := []struct {
		name   string
		attrs  []attribute.KeyValue
		status string
		want   func(Span) bool
	}{
		{"within bounds", []attribute.KeyValue{attribute.String("k", "v"), attribute.Int("n", 7), attribute.Bool("b", true)}, "failed",
			func(s Span) bool {
				return len(s.Attributes) == 3 && s.Attributes["n"] == "7" && s.Attributes["b"] == "true" && s.Message == "failed"
			}},
		{"long value", []attribute.KeyValue{attribute.String("k", long)}, "",
			func(s Span) bool { return s.Attributes["k"] == long[:maxAttrValue]+"…" }},
		{"many attributes", many, "", func(s Span) bool { return len(s.Attributes) == maxAttrs }},
		{"slice", []attribute.KeyValue{attribute.StringSlice("k", []string{long})}, "",
			func(s Span) bool { return len(s.Attributes["k"]) == maxAttrValue+len("…") }},
		{"long status", nil, long, func(s Span) bool { return s.Message == long[:maxAttrValue]+"…" }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, sp := tr.Start(context.Background(), tt.name, trace.WithAttributes(tt.attrs...))
			if tt.status != "" {
				sp.SetStatus(codes.Error, tt.status)
			}
			sp.End()
			id := sp.SpanContext().TraceID()
			if converted := store.traces[id].spans[0].converted != nil; converted != (i > 0) {
				t.Errorf("converted on end: %v, want %v (only what is beyond bounds)", converted, i > 0)
			}
			got, ok := store.Trace(id.String())
			if !ok || len(got.Spans) != 1 {
				t.Fatalf("got %+v, want the span kept", got)
			}
			if s := got.Spans[0]; !tt.want(s) {
				t.Errorf("got attributes %v, message %q", s.Attributes, s.Message)
			}
		})
	}
	if _, ok := store.Trace("not a trace id"); ok {
		t.Error("Trace of a malformed id: got a trace")
	}
}

// Compact keeps every trace as it reads, holds no snapshot of the SDK's
// afterwards, and the Store goes on: new spans join their traces, and the
// oldest trace is still forgotten first.
func TestStoreCompact(t *testing.T) {
	store := NewStore(4, 8)
	ids := record(t, store, 5, 3)
	before := map[string]Trace{}
	for _, id := range ids[1:] {
		tr, ok := store.Trace(id)
		if !ok {
			t.Fatalf("trace %s not kept", id)
		}
		before[id] = tr
	}
	list := store.List(0)
	store.Compact()
	for id, want := range before {
		got, _ := store.Trace(id)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("trace %s after Compact:\n%+v\nbefore:\n%+v", id, got, want)
		}
	}
	if got := store.List(0); fmt.Sprint(got) != fmt.Sprint(list) {
		t.Errorf("List after Compact: %+v, before: %+v", got, list)
	}
	for id, k := range store.traces {
		for _, s := range k.spans {
			if s.ro != nil || s.converted == nil {
				t.Errorf("trace %s holds a span as the SDK's snapshot after Compact", id)
			}
		}
	}
	newer := record(t, store, 2, 1)
	if got := store.List(0); len(got) != 4 || got[0].TraceID != newer[1] || got[3].TraceID != ids[3] {
		t.Errorf("after two more traces: %+v; want the newest first, %s last", got, ids[3])
	}
	if _, ok := store.Trace(ids[2]); ok {
		t.Errorf("trace %s, the oldest at Compact, still kept after two more", ids[2])
	}
}

// Compact while spans end: no span is lost, whether its trace was compacted
// or, having changed meanwhile, left as it was (run with -race).
func TestStoreCompactWhileSpansEnd(t *testing.T) {
	store := NewStore(16, 1000)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	defer tp.Shutdown(context.Background())
	tr := tp.Tracer("test")
	var roots []context.Context
	for range 16 {
		ctx, _ := tr.Start(context.Background(), "root") // never ended: its trace only gets children
		roots = append(roots, ctx)
		_, c := tr.Start(ctx, "child")
		c.End()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			store.Compact()
		}
	}()
	const more = 50
	for i := range more * len(roots) {
		_, c := tr.Start(roots[i%len(roots)], "child")
		c.End()
	}
	<-done
	store.Compact()
	for _, ctx := range roots {
		id := trace.SpanContextFromContext(ctx).TraceID().String()
		got, ok := store.Trace(id)
		if !ok || len(got.Spans) != 1+more {
			t.Errorf("trace %s: %d spans, want %d", id, len(got.Spans), 1+more)
		}
	}
}
