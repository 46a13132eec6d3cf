package inputs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dapr/components-contrib/bindings"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// recorder is a function that answers status and records the headers of
// each request.
type recorder struct {
	mu      sync.Mutex
	headers []http.Header
	got     chan struct{}
}

func function(t *testing.T, status int) (string, *recorder) {
	t.Helper()
	rec := &recorder{got: make(chan struct{}, 100)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rec.mu.Lock()
		rec.headers = append(rec.headers, r.Header.Clone())
		rec.mu.Unlock()
		w.WriteHeader(status)
		rec.got <- struct{}{}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, rec
}

func (r *recorder) calls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.headers)
}

type target map[string]string

func (tg target) Acquire(_ context.Context, fn string) (string, func(bool), error) {
	if u, ok := tg[fn]; ok {
		return u, func(bool) {}, nil
	}
	return "", nil, errors.New("no such function")
}

func cronComponent(name string, meta map[string]string) resources.Component {
	md := map[string]string{"schedule": "@every 1s"}
	for k, v := range meta {
		md[k] = v
	}
	return resources.Component{Name: name, Type: "bindings.cron", Version: "v1", Metadata: md, File: name + ".yaml"}
}

var fast = delivery.RetryPolicy{MaxRetries: 2, Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}

func TestCronTriggersFunction(t *testing.T) {
	url, rec := function(t, http.StatusOK)
	in, err := New(t.Context(), Config{
		Components: []resources.Component{cronComponent("checkout-cron", map[string]string{"route": "/checkout"})},
		Target:     target{"checkout": url},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-rec.got:
	case <-time.After(5 * time.Second):
		t.Fatal("cron did not trigger checkout within 5s (schedule @every 1s)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop = %v", err)
	}
	h := rec.headers[0]
	for k, want := range map[string]string{"Ce-Type": "com.dapr.binding.cron", "Ce-Source": "checkout-cron", "Ce-Specversion": "1.0"} {
		if got := h.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"Ce-Id", "Ce-Time", "Ce-Timezone", "Ce-Readtimeutc"} {
		if h.Get(k) == "" {
			t.Errorf("%s is empty, want it set", k)
		}
	}
	n := rec.calls()
	time.Sleep(1500 * time.Millisecond)
	if rec.calls() != n {
		t.Errorf("cron triggered after Stop: %d calls, want %d", rec.calls(), n)
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		wantErr   bool
		wantCalls int
	}{
		{"2xx", http.StatusOK, false, 1},
		{"permanent is not retried", http.StatusBadRequest, true, 1},
		{"transient is retried, then given up", http.StatusServiceUnavailable, true, 1 + fast.MaxRetries},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, rec := function(t, tt.status)
			in, err := New(t.Context(), Config{Components: []resources.Component{cronComponent("tick", nil)},
				Target: target{"tick": url}, Retry: fast})
			if err != nil {
				t.Fatal(err)
			}
			in.life = t.Context()
			_, err = in.handler(in.triggers[0])(t.Context(), &bindings.ReadResponse{Metadata: map[string]string{"timeZone": "UTC"}})
			if (err != nil) != tt.wantErr {
				t.Errorf("handler = %v, want error %v", err, tt.wantErr)
			}
			if rec.calls() != tt.wantCalls {
				t.Errorf("function called %d times, want %d", rec.calls(), tt.wantCalls)
			}
		})
	}
}

func TestResiliencyForBindings(t *testing.T) {
	url, rec := function(t, http.StatusServiceUnavailable)
	res := resources.Resiliency{Name: "r", Retries: map[string]resources.Retry{
		"DefaultBindingComponentInboundRetryPolicy": {Policy: resources.RetryConstant, Duration: time.Millisecond, MaxRetries: 4},
	}}
	in, err := New(t.Context(), Config{Components: []resources.Component{cronComponent("tick", nil)},
		Target: target{"tick": url}, Resiliency: []resources.Resiliency{res}})
	if err != nil {
		t.Fatal(err)
	}
	in.life = t.Context()
	if _, err := in.handler(in.triggers[0])(t.Context(), &bindings.ReadResponse{}); err == nil {
		t.Error("handler = nil, want an error")
	}
	if rec.calls() != 5 {
		t.Errorf("function called %d times, want 5 (Dapr's default binding inbound retry policy: 4 retries)", rec.calls())
	}
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name    string
		comp    resources.Component
		wantErr []string
	}{
		{"bad schedule", cronComponent("tick", map[string]string{"schedule": "every now and then"}), []string{"tick.yaml", "input binding tick", "schedule"}},
		{"no schedule", resources.Component{Name: "tick", Type: "bindings.cron", Version: "v1", File: "tick.yaml"}, []string{"tick.yaml", "schedule not set"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(t.Context(), Config{Components: []resources.Component{tt.comp}, Target: target{}})
			if err == nil {
				t.Fatal("New = nil, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
	if _, err := New(t.Context(), Config{}); err == nil {
		t.Error("New without Target = nil, want an error")
	}
}

func TestIsInputAndFunction(t *testing.T) {
	tests := []struct {
		name     string
		comp     resources.Component
		wantIn   bool
		wantFunc string
	}{
		{"cron named after the function", cronComponent("checkout", nil), true, "checkout"},
		{"route", cronComponent("tick", map[string]string{"route": "/checkout"}), true, "checkout"},
		{"route without slash", cronComponent("tick", map[string]string{"route": "checkout"}), true, "checkout"},
		{"direction input", cronComponent("tick", map[string]string{"direction": "input, output"}), true, "tick"},
		{"direction output only", cronComponent("tick", map[string]string{"direction": "output"}), false, "tick"},
		{"other binding type", resources.Component{Name: "http", Type: "bindings.http"}, false, "http"},
		{"pubsub", resources.Component{Name: "orderpubsub", Type: "pubsub.jetstream"}, false, "orderpubsub"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsInput(tt.comp); got != tt.wantIn {
				t.Errorf("IsInput = %v, want %v", got, tt.wantIn)
			}
			if got := Function(tt.comp); got != tt.wantFunc {
				t.Errorf("Function = %q, want %q", got, tt.wantFunc)
			}
		})
	}
}

func TestCloudEvent(t *testing.T) {
	ct := "application/json"
	ev, err := cloudEvent("orders-in", "bindings.kafka", &bindings.ReadResponse{
		Data: []byte(`{"a":1}`), ContentType: &ct,
		Metadata: map[string]string{"readTimeUTC": "x", "Type": "shadow", "partition-key": "7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type() != "com.dapr.binding.kafka" || ev.Source() != "orders-in" || ev.DataContentType() != ct || string(ev.Data()) != `{"a":1}` {
		t.Errorf("got %s", ev)
	}
	ext := ev.Extensions()
	if ext["readtimeutc"] != "x" || ext["partitionkey"] != "7" {
		t.Errorf("extensions = %v, want readtimeutc and partitionkey", ext)
	}
	if _, ok := ext["type"]; ok {
		t.Error("metadata shadowed the type attribute")
	}
}

// TestExampleComponent keeps components/examples/cron.yaml runnable: it
// triggers checkout every second.
func TestExampleComponent(t *testing.T) {
	path := filepath.Join("..", "..", "components", "examples", "cron.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := resources.Parse(path, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := set.Components[0]
	if !IsInput(c) || Function(c) != "checkout" || c.Metadata["schedule"] != "@every 1s" {
		t.Errorf("got %+v, want an input binding triggering checkout @every 1s", c)
	}
	if _, err := New(t.Context(), Config{Components: set.Components, Target: target{}}); err != nil {
		t.Errorf("New = %v, want nil", err)
	}
}
