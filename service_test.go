package function

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"knative.dev/func-go/cloudevents"
)

// TestUnreadyWithoutSidecar serves the binding in func-go's real service
// with no sidecar to reach: readiness and Handle answer 503, liveness 200,
// and shutdown stops the Start that is still connecting.
func TestUnreadyWithoutSidecar(t *testing.T) {
	t.Setenv("LISTEN_ADDRESS", "127.0.0.1:0")
	t.Setenv("DAPR_GRPC_ENDPOINT", "127.0.0.1:1") // nothing listens on port 1
	t.Setenv("DAPR_CLIENT_TIMEOUT_SECONDS", "1")
	t.Setenv("RESOURCES_PATH", "deploy/dapr") // what the binding reads on a cluster
	cloudevents.SetLogLevel(cloudevents.LogWarn)
	started := make(chan struct{})
	svc := cloudevents.New(&signalStart{Function: New(), started: started})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Start(ctx) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("func-go did not call Start within 10s")
	}
	// func-go listens before it calls Start: reading Addr now is race-free.
	base := "http://" + svc.Addr().String()
	tests := []struct {
		name, method, path string
		header             map[string]string
		want               int
	}{
		{name: "readiness", method: http.MethodGet, path: "/health/readiness", want: http.StatusServiceUnavailable},
		{name: "liveness", method: http.MethodGet, path: "/health/liveness", want: http.StatusOK},
		{name: "handle", method: http.MethodPost, path: "/", want: http.StatusServiceUnavailable, header: map[string]string{
			"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/test", "ce-type": "t", "ce-topic": "orders",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, base+tt.path, strings.NewReader(`{}`))
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("func-go service stopped with %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("func-go service did not stop")
	}
}

// signalStart tells the test that func-go has called Start.
type signalStart struct {
	*Function
	started chan struct{}
}

func (s *signalStart) Start(ctx context.Context, cfg map[string]string) error {
	close(s.started)
	return s.Function.Start(ctx, cfg)
}
