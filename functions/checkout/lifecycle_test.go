package function

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestStartGatesReadiness(t *testing.T) {
	unsetenv(t, "PUBSUB_NAME", "TOPIC", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "LOG_FORMAT")
	release := make(chan struct{})
	pub := &fakePublisher{}
	f := newFunction(new(syncBuffer), func(ctx context.Context, addr string) (publisher, error) {
		if addr != "127.0.0.1:50001" {
			t.Errorf("dial: got %q, want 127.0.0.1:50001", addr)
		}
		<-release
		return pub, nil
	})
	started := make(chan error, 1)
	go func() { started <- f.Start(context.Background(), nil) }()

	checkReady(t, f, false)
	reply, err := f.Handle(context.Background(), orderEvent("application/json", `{"orderId":1}`))
	checkResult(t, reply, err, 503, "not ready")

	close(release)
	if err := <-started; err != nil {
		t.Fatalf("Start: got %v, want nil", err)
	}
	checkReady(t, f, true)
	if err := f.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	checkReady(t, f, false)
	if !pub.isClosed() {
		t.Error("publisher closed: got false, want true")
	}
}

func TestStartRedialsUntilTheSidecarAnswers(t *testing.T) {
	unsetenv(t, "PUBSUB_NAME", "TOPIC", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "LOG_FORMAT")
	var dials atomic.Int32
	f := newFunction(new(syncBuffer), func(context.Context, string) (publisher, error) {
		if dials.Add(1) == 1 {
			return nil, errors.New("connection refused")
		}
		return &fakePublisher{}, nil
	})
	if err := f.Start(context.Background(), nil); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if got := dials.Load(); got != 2 {
		t.Errorf("dials: got %d, want 2", got)
	}
	checkReady(t, f, true)
}

func TestStopCancelsAConnectingStart(t *testing.T) {
	unsetenv(t, "PUBSUB_NAME", "TOPIC", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "LOG_FORMAT")
	dialing := make(chan struct{})
	f := newFunction(new(syncBuffer), func(ctx context.Context, _ string) (publisher, error) {
		close(dialing)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	started := make(chan error, 1)
	go func() { started <- f.Start(context.Background(), nil) }()
	<-dialing
	if err := f.Stop(context.Background()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	select {
	case err := <-started:
		if err != nil {
			t.Errorf("Start: got %v, want nil after Stop", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start: still running 5s after Stop")
	}
	checkReady(t, f, false)
}

func TestStartRejectsBadConfig(t *testing.T) {
	setenv(t, map[string]string{"TOPIC": ""})
	f := newFunction(new(syncBuffer), nil)
	if err := f.Start(context.Background(), nil); err == nil {
		t.Error("Start: got nil, want a config error")
	}
	checkReady(t, f, false)
}

func TestAlive(t *testing.T) {
	alive, err := newFunction(new(syncBuffer), nil).Alive(context.Background())
	if !alive || err != nil {
		t.Errorf("Alive: got %v, %v, want true, nil", alive, err)
	}
}

func checkReady(t *testing.T, f *Function, want bool) {
	t.Helper()
	got, err := f.Ready(context.Background())
	if got != want || err != nil {
		t.Errorf("Ready: got %v, %v, want %v, nil", got, err, want)
	}
}
