package sidecar

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/dapr/components-contrib/pubsub"
)

func TestNewValidates(t *testing.T) {
	comps := fakeComponents{}
	tests := []struct {
		name  string
		appID string
		comps Components
		opts  []Option
	}{
		{name: "empty app id", comps: comps},
		{name: "nil components", appID: testAppID},
		{name: "nil logger", appID: testAppID, comps: comps, opts: []Option{WithLogger(nil)}},
		{name: "zero body limit", appID: testAppID, comps: comps, opts: []Option{WithMaxBodyBytes(0)}},
		{name: "negative shutdown", appID: testAppID, comps: comps, opts: []Option{WithShutdownTimeout(-time.Second)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.appID, tc.comps, tc.opts...); err == nil {
				t.Error("New: got nil error, want one")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	sc, err := New(testAppID, fakeComponents{})
	if err != nil {
		t.Fatal(err)
	}
	if sc.cfg.MaxBodyBytes != 4<<20 || sc.cfg.ShutdownTimeout != DefaultShutdownTimeout || sc.cfg.APIToken != "" || sc.log == nil {
		t.Errorf("config: got %+v, want daprd defaults", sc.cfg)
	}
	if sc.AppID() != testAppID {
		t.Errorf("AppID: got %q, want %q", sc.AppID(), testAppID)
	}
	if err := (Config{}).Validate(); err == nil {
		t.Error("zero Config.Validate: got nil, want error")
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	sc, err := New(testAppID, fakeComponents{}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	gl, hl := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, gl, hl) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: got %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	if _, err := net.Dial("tcp", hl.Addr().String()); err == nil {
		t.Error("http listener still open")
	}
}

func TestServeNeedsAListener(t *testing.T) {
	sc, _ := New(testAppID, fakeComponents{})
	if err := sc.Serve(context.Background(), nil, nil); err == nil {
		t.Error("Serve(nil, nil): got nil, want error")
	}
}

func TestServeReportsListenerFailure(t *testing.T) {
	sc, _ := New(testAppID, fakeComponents{})
	l := listen(t)
	l.Close()
	err := sc.Serve(context.Background(), nil, l)
	if err == nil || !errors.Is(err, net.ErrClosed) {
		t.Errorf("Serve on closed listener: got %v, want net.ErrClosed", err)
	}
}

func TestFeatureTTLLeavesExpirationToComponent(t *testing.T) {
	pub := &fakePublisher{feats: []pubsub.Feature{pubsub.FeatureMessageTTL}}
	e := startWith(t, fakeComponents{testPubSub: featurePublisher{pub}}, pub)
	resp := e.post(t, "/v1.0/publish/orderpubsub/orders?metadata.ttlInSeconds=60", "", "x", nil)
	resp.Body.Close()
	ce := decodeEnvelope(t, pub.last(t))
	if _, ok := ce["expiration"]; ok {
		t.Errorf("expiration: got %v, want none (component handles TTL)", ce["expiration"])
	}
	if pub.last(t).Metadata["ttlInSeconds"] != "60" {
		t.Error("metadata: ttlInSeconds not passed to the component")
	}
}
