//go:build linux

package runner

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

func TestRunEchoFunction(t *testing.T) {
	skipShort(t)
	ctx := t.Context()
	var out syncBuffer
	r, b := newTestRunner(t, t.TempDir(), &out)
	fn, err := funcbuild.Load(filepath.Join(testdata, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := b.Build(ctx, []funcbuild.Function{fn}); err != nil {
		t.Fatal(err)
	}
	t.Logf("build (empty cache dir, shared GOCACHE): %v", time.Since(start))
	goroutines := runtime.NumGoroutine()

	start = time.Now()
	inst, err := r.Start(ctx, fn, map[string]string{"DAPR_GRPC_PORT": "50001"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("start to ready (cached binary): %v", time.Since(start))
	pid := inst.PID()

	if typ, data := sendEvent(t, inst.URL(), "test.ping", "hello"); typ != "echo.reply" || data != "hello" {
		t.Errorf("got reply %s %q, want echo.reply \"hello\"", typ, data)
	}
	for name, want := range map[string]string{
		"ECHO_LITERAL":   "literal",
		"ECHO_FROM_HOST": "from-host",
		"DAPR_GRPC_PORT": "50001",
		"LISTEN_ADDRESS": strings.TrimPrefix(inst.URL(), "http://"),
	} {
		if _, got := sendEvent(t, inst.URL(), "echo.env", name); got != want {
			t.Errorf("function sees %s=%q, want %q", name, got, want)
		}
	}

	// A crash is followed by a restart on the same URL.
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	restarted := eventually(10*time.Second, func() bool {
		return inst.PID() != pid && probe(ctx, testClient, inst.URL()+"/health/readiness")
	})
	if !restarted {
		t.Fatalf("not restarted after SIGKILL: pid %d, restarts %d", inst.PID(), inst.Restarts())
	}
	if typ, _ := sendEvent(t, inst.URL(), "test.ping", "again"); typ != "echo.reply" {
		t.Errorf("got reply type %q after restart, want echo.reply", typ)
	}
	if got := inst.Restarts(); got != 1 {
		t.Errorf("got %d restarts, want 1", got)
	}

	newPID := inst.PID()
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := inst.Stop(stopCtx); err != nil {
		t.Errorf("stop: %v", err)
	}
	if err := syscall.Kill(newPID, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("after Stop, kill(%d, 0) = %v, want ESRCH", newPID, err)
	}
	select {
	case <-inst.Done():
	default:
		t.Error("Done is not closed after Stop")
	}
	if !eventually(time.Second, func() bool { return runtime.NumGoroutine() <= goroutines }) {
		t.Errorf("got %d goroutines after Stop, want at most %d as before Start", runtime.NumGoroutine(), goroutines)
	}
	if !strings.Contains(out.String(), "echo | ") {
		t.Errorf("output has no line prefixed \"echo | \":\n%s", out.String())
	}
}

// Every scaffold variant compiles against the real func-go and serves.
func TestSignaturesBuildAndServe(t *testing.T) {
	skipShort(t)
	tests := []struct {
		name, invoke, handle string
	}{
		{"instanced cloudevent", funcbuild.InvokeCloudEvent, `package function

import (
	"context"

	"github.com/cloudevents/sdk-go/v2/event"
)

type F struct{}

func New() *F { return &F{} }

func (*F) Handle(ctx context.Context, e event.Event) (*event.Event, error) { return &e, nil }
`},
		{"instanced http", funcbuild.InvokeHTTP, `package function

import "net/http"

type F struct{}

func New() *F { return &F{} }

func (*F) Handle(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }
`},
		{"static http", funcbuild.InvokeHTTP, `package function

import "net/http"

func Handle(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }
`},
		{"static http with context", funcbuild.InvokeHTTP, `package function

import (
	"context"
	"net/http"
)

func Handle(ctx context.Context, w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }
`},
	}
	r, _ := newTestRunner(t, t.TempDir(), io.Discard)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := copyEcho(t, map[string]string{
				"handle.go": tt.handle,
				"func.yaml": "name: echo\nruntime: go\ninvoke: " + tt.invoke + "\n",
			})
			inst, err := r.Start(t.Context(), fn, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := inst.Stop(t.Context()); err != nil {
				t.Errorf("stop: %v", err)
			}
		})
	}
}
