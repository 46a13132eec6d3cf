package function

// Harness for HTTP-level tests: the function runs inside func-go's real
// CloudEvents service on a free loopback port, and publishes to a fake Dapr
// sidecar that speaks real gRPC.

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"knative.dev/func-go/cloudevents"
)

// serve runs f in func-go's service on 127.0.0.1:0 and returns its base URL.
//
// func-go stops on SIGINT/SIGTERM or when the ctx given to Service.Start is
// cancelled; the cleanup cancels it and waits for Start to return, which
// happens after func-go's http.Server.Shutdown and f.Stop.
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
	return "http://" + svc.Addr().String()
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

// fakeDapr is a Dapr sidecar that only implements PublishEvent.
type fakeDapr struct {
	runtimev1pb.UnimplementedDaprServer

	mu   sync.Mutex
	reqs []*runtimev1pb.PublishEventRequest
	err  error // returned by PublishEvent when set
}

// PublishEvent records req.
func (d *fakeDapr) PublishEvent(_ context.Context, req *runtimev1pb.PublishEventRequest) (*emptypb.Empty, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return nil, d.err
	}
	d.reqs = append(d.reqs, req)
	return &emptypb.Empty{}, nil
}

func (d *fakeDapr) requests() []*runtimev1pb.PublishEventRequest {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]*runtimev1pb.PublishEventRequest(nil), d.reqs...)
}

// listenDapr opens a loopback listener for a fake sidecar and points
// DAPR_GRPC_ENDPOINT at it. Until serveDapr runs, dialing it blocks.
func listenDapr(t *testing.T) net.Listener {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lis.Close() })
	setenv(t, map[string]string{"DAPR_GRPC_ENDPOINT": lis.Addr().String()})
	return lis
}

// serveDapr serves d on lis until the test ends.
func serveDapr(t *testing.T, lis net.Listener, d *fakeDapr) {
	t.Helper()
	srv := grpc.NewServer()
	runtimev1pb.RegisterDaprServer(srv, d)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(lis)
	}()
	t.Cleanup(func() {
		srv.Stop()
		<-done
	})
}
