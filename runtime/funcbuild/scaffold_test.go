package funcbuild

import (
	"errors"
	"go/format"
	"path/filepath"
	"strings"
	"testing"
)

func TestDetectSignature(t *testing.T) {
	tests := []struct {
		name    string
		files   map[string]string
		invoke  string
		want    signature
		wantErr error
	}{
		{
			name:   "instanced",
			files:  map[string]string{"f.go": "package function\ntype F struct{}\nfunc New() *F { return &F{} }\nfunc (F) Handle() {}"},
			invoke: InvokeCloudEvent,
			want:   signature{Instanced: true, Invoke: InvokeCloudEvent},
		},
		{
			name:   "static",
			files:  map[string]string{"handle.go": "package function\nfunc Handle() {}"},
			invoke: InvokeCloudEvent,
			want:   signature{Invoke: InvokeCloudEvent},
		},
		{
			name:   "static http",
			files:  map[string]string{"handle.go": "package function\nimport \"net/http\"\nfunc Handle(w http.ResponseWriter, r *http.Request) {}"},
			invoke: InvokeHTTP,
			want:   signature{Invoke: InvokeHTTP},
		},
		{
			name:   "static http with context",
			files:  map[string]string{"handle.go": "package function\nimport (\"context\"; \"net/http\")\nfunc Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) {}"},
			invoke: InvokeHTTP,
			want:   signature{Invoke: InvokeHTTP, LegacyHTTP: true},
		},
		{
			name: "declarations in separate files",
			files: map[string]string{
				"a.go": "package function\nfunc helper() {}",
				"b.go": "package function\nfunc New() int { return 0 }",
			},
			invoke: InvokeHTTP,
			want:   signature{Instanced: true, Invoke: InvokeHTTP},
		},
		{
			name: "both",
			files: map[string]string{
				"new.go":    "package function\nfunc New() int { return 0 }",
				"handle.go": "package function\nfunc Handle() {}",
			},
			wantErr: ErrTwoSignatures,
		},
		{
			name:    "neither",
			files:   map[string]string{"f.go": "package function\ntype T struct{}\nfunc (T) New() {}\nfunc (T) Handle() {}"},
			wantErr: ErrNoSignature,
		},
		{
			name: "test files ignored",
			files: map[string]string{
				"handle.go":      "package function\nfunc Handle() {}",
				"handle_test.go": "package function\nfunc New() int { return 0 }",
			},
			invoke: InvokeCloudEvent,
			want:   signature{Invoke: InvokeCloudEvent},
		},
		{
			name:    "no go files",
			files:   map[string]string{"README.md": "hello"},
			wantErr: ErrNoSignature,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, src := range tt.files {
				writeFile(t, filepath.Join(dir, name), src)
			}
			got, err := detectSignature(dir, tt.invoke)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestScaffoldMain(t *testing.T) {
	tests := []struct {
		sig  signature
		want []string
	}{
		{signature{Instanced: true, Invoke: InvokeCloudEvent}, []string{`"knative.dev/func-go/cloudevents"`, "inst := f.New()", "serve(svc, handlerOf(inst), nil)"}},
		{signature{Invoke: InvokeCloudEvent}, []string{`"knative.dev/func-go/cloudevents"`, "inst := cloudevents.DefaultHandler{Handler: f.Handle}", "serve(svc, handlerOf(inst), nil)"}},
		{signature{Instanced: true, Invoke: InvokeHTTP}, []string{`"knative.dev/func-go/http"`, "svc := http.New(inst)", "inst := f.New()"}},
		{signature{Invoke: InvokeHTTP}, []string{`"knative.dev/func-go/http"`, `nethttp "net/http"`, "svc := http.New(inst)", "inst := handler(f.Handle)"}},
		{signature{Invoke: InvokeHTTP, LegacyHTTP: true}, []string{`"knative.dev/func-go/http"`, "svc := http.New(inst)", "inst := http.DefaultHandler{Handler: f.Handle}"}},
	}
	for _, tt := range tests {
		t.Run(tt.want[len(tt.want)-1], func(t *testing.T) {
			checkScaffoldMain(t, tt.sig, append(tt.want, `f "function"`), nil)
		})
	}
}

// checkScaffoldMain checks that the main.go scaffolded for sig parses, is
// gofmt-ed, holds every string of want and none of notWant.
func checkScaffoldMain(t *testing.T, sig signature, want, notWant []string) {
	t.Helper()
	got, err := scaffoldMain(sig)
	if err != nil {
		t.Fatal(err)
	}
	formatted, err := format.Source(got)
	if err != nil {
		t.Fatalf("generated main.go does not parse: %v\n%s", err, got)
	}
	if string(formatted) != string(got) {
		t.Errorf("generated main.go is not gofmt-ed:\n%s", got)
	}
	for _, w := range want {
		if !strings.Contains(string(got), w) {
			t.Errorf("main.go lacks %q:\n%s", w, got)
		}
	}
	for _, w := range notWant {
		if strings.Contains(string(got), w) {
			t.Errorf("main.go has %q:\n%s", w, got)
		}
	}
}
