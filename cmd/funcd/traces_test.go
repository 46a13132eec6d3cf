package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

func TestTracesAndTrace(t *testing.T) {
	store := tracing.NewStore(0, 0)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(store))
	ctx, root := tp.Tracer("test").Start(context.Background(), "POST /checkout")
	_, child := tp.Tracer("test").Start(ctx, "deliver order-processor")
	child.End()
	root.End()
	id := root.SpanContext().TraceID().String()
	mux := http.NewServeMux()
	mux.Handle("GET "+tracing.ListPath, store.ListHandler())
	mux.Handle("GET "+tracing.TracePath, store.TraceHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		args    []string
		code    int
		want    string
		wantErr string
	}{
		{[]string{"traces", "--url", srv.URL}, exitOK, id, ""},
		{[]string{"trace", "--url", srv.URL, id}, exitOK, "  deliver order-processor", ""},
		{[]string{"trace", "--url", srv.URL, "nope"}, exitFailure, "", "32 lowercase hex"},
		{[]string{"trace", "--url", srv.URL, "0123456789abcdef0123456789abcdef"}, exitFailure, "", "no trace"},
		{[]string{"trace", "--url", srv.URL}, exitUsage, "", "give one trace id"},
		{[]string{"traces", "--limit", "0"}, exitUsage, "", "--limit"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args[:1], " ")+" "+tt.want+tt.wantErr, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(t.Context(), tt.args, &out, &errOut)
			if code != tt.code || !strings.Contains(out.String(), tt.want) || !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("got exit %d, out %q, err %q; want exit %d, out containing %q, err containing %q",
					code, out.String(), errOut.String(), tt.code, tt.want, tt.wantErr)
			}
		})
	}
}
