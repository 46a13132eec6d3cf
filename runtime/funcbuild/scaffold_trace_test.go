package funcbuild

import (
	"os"
	"path/filepath"
	"testing"
)

func TestScaffoldMainTraced(t *testing.T) {
	tests := []struct {
		name    string
		sig     signature
		want    []string
		notWant []string
	}{
		{"neither", signature{Invoke: InvokeCloudEvent}, []string{"serve(svc, handlerOf(inst), nil)"}, []string{"hopTrace", "withTrace"}},
		{"grpc", signature{Instanced: true, Invoke: InvokeCloudEvent, GRPC: true},
			[]string{"serve(svc, handlerOf(inst), &tracing{hop: hopTrace, context: withTrace})", `"google.golang.org/grpc/metadata"`, "AppendToOutgoingContext"},
			[]string{"propagation"}},
		{"otel", signature{Invoke: InvokeCloudEvent, OTel: true},
			[]string{"cloudevents.DefaultHandler{Handler: f.Handle}", `"go.opentelemetry.io/otel/propagation"`},
			[]string{"metadata"}},
		{"http", signature{Invoke: InvokeHTTP, OTel: true, GRPC: true}, []string{"svc := http.New(inst)"}, []string{"hopTrace", "serve("}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkScaffoldMain(t, tt.sig, tt.want, tt.notWant)
		})
	}
}

func TestTraceModules(t *testing.T) {
	dir := t.TempDir()
	mod := "module function\n\ngo 1.24\n\nrequire google.golang.org/grpc v1.73.0\n\nrequire go.opentelemetry.io/otel v1.35.0 // indirect\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	if otel, grpc := traceModules(dir); !otel || !grpc {
		t.Errorf("got otel %v grpc %v, want both", otel, grpc)
	}
	if otel, grpc := traceModules(t.TempDir()); otel || grpc {
		t.Errorf("without go.mod: got otel %v grpc %v, want neither", otel, grpc)
	}
}
