package function

// Harness for HTTP-level tests: the function runs inside func-go's real
// CloudEvents service on a free loopback port.

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"knative.dev/func-go/cloudevents"
)

// serve runs f in func-go's service on 127.0.0.1:0 and returns its base URL.
//
// func-go stops on SIGINT/SIGTERM or when the ctx given to Service.Start is
// cancelled; the cleanup cancels it and waits for Start to return, which
// happens after func-go's http.Server.Shutdown.
func serve(t *testing.T, f *Function) string {
	t.Helper()
	t.Setenv("LISTEN_ADDRESS", "127.0.0.1:0")
	cloudevents.SetLogLevel(cloudevents.LogWarn)
	started := make(chan struct{})
	svc := cloudevents.New(&signalStart{Function: f, started: started})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Start(ctx) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("func-go service: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("func-go service did not start in 10s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("func-go service stopped with %v", err)
		}
	})
	// func-go sets its listener before it calls Start, so reading Addr once
	// Start has been called is race-free.
	base := "http://" + svc.Addr().String()
	waitReady(t, base)
	return base
}

// signalStart tells serve that func-go has called Start.
type signalStart struct {
	*Function
	started chan struct{}
}

// Start signals, then starts the function.
func (s *signalStart) Start(ctx context.Context, cfg map[string]string) error {
	close(s.started)
	return s.Function.Start(ctx, cfg)
}

// waitReady polls func-go's readiness endpoint until it answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if status, _, _ := send(t, http.MethodGet, base+"/health/readiness", nil, ""); status == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("function not ready after 10s")
}

// send makes one request and returns status, headers and body.
func send(t *testing.T, method, url string, header map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}
