package embedded_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
)

// TestJetStreamResubscribe: once a subscription's Stopped came, the next
// subscription of the same durable consumer subscribes, though the broker
// releases the consumer a moment after (in both concurrency modes); while
// a subscription runs, a second one of its consumer is refused, saying why.
func TestJetStreamResubscribe(t *testing.T) {
	t.Parallel()
	for name, comp := range map[string]resources.Component{"single": jetstream(), "parallel": parallelJetStream()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ps := open(t, comp, embedded.Options{Broker: startBroker(t)})
			h := func(context.Context, *pubsub.Message) error { return nil }
			for i := range 30 {
				ctx, cancel := context.WithCancel(t.Context())
				stopped := make(chan struct{})
				sub := pubsub.Subscription{Topic: "orders", Consumer: "resumer", Stopped: func() { close(stopped) }}
				if err := ps.Subscribe(ctx, sub, h); err != nil {
					cancel()
					t.Fatalf("subscription %d of consumer resumer: %v", i+1, err)
				}
				cancel()
				select {
				case <-stopped:
				case <-time.After(10 * time.Second):
					t.Fatalf("subscription %d: no Stopped 10 s after it ended", i+1)
				}
			}

			holder := pubsub.Subscription{Topic: "orders", Consumer: "holder"}
			if err := ps.Subscribe(t.Context(), holder, h); err != nil {
				t.Fatal(err)
			}
			err := ps.Subscribe(t.Context(), holder, h)
			if err == nil || !strings.Contains(err.Error(), "still bound after") {
				t.Errorf("a second subscription of a consumer in use: got %v, want it refused as still bound", err)
			}
		})
	}
}
