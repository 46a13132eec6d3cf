package embedded

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// shippedComponent is components/pubsub.yaml as the project ships it.
func shippedComponent(t *testing.T) resources.Component {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "..", "components", "pubsub.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	set, err := resources.Parse("pubsub.yaml", data, nil)
	if err != nil || len(set.Components) != 1 {
		t.Fatalf("components/pubsub.yaml: %v, %d components", err, len(set.Components))
	}
	return set.Components[0]
}

func startTestBroker(t *testing.T) *broker.Broker {
	t.Helper()
	b, err := broker.Start(broker.Config{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// TestHeartbeatNoDuplicate: a delivery that runs three times the ack wait
// is not delivered a second time while it runs.
func TestHeartbeatNoDuplicate(t *testing.T) {
	comp := shippedComponent(t)
	comp.Metadata["ackWait"] = "1s"
	ps, err := Open(t.Context(), comp, Options{Broker: startTestBroker(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	var deliveries atomic.Int32
	done := make(chan struct{})
	err = ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "slow", Consumer: "c"}, func(ctx context.Context, m *pubsub.Message) error {
		if deliveries.Add(1) == 1 {
			time.Sleep(3500 * time.Millisecond)
			close(done)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "slow", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	<-done
	time.Sleep(1500 * time.Millisecond) // a redelivery would have come by now
	if n := deliveries.Load(); n != 1 {
		t.Errorf("got %d deliveries of a message handled in 3.5s with a 1s ack wait, want 1", n)
	}
}

// TestRedeliveryAfterCrash: with the shipped Component, a message whose
// consumer died mid-delivery (connection gone, no acknowledgement) is
// delivered again within seconds, not after 30.
func TestRedeliveryAfterCrash(t *testing.T) {
	b := startTestBroker(t)
	comp := shippedComponent(t)
	if comp.Metadata["concurrency"] != "parallel" {
		t.Fatalf("components/pubsub.yaml: concurrency %q, want parallel (what this test crashes)", comp.Metadata["concurrency"])
	}
	crashed, err := Open(t.Context(), comp, Options{Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	sub := pubsub.Subscription{Topic: "orders", Consumer: "order-processor-orders"}
	started, stuck := make(chan struct{}), make(chan struct{})
	var once sync.Once
	err = crashed.Subscribe(t.Context(), sub, func(ctx context.Context, m *pubsub.Message) error {
		once.Do(func() { close(started) })
		<-stuck
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := crashed.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(`{"orderId":1}`)}); err != nil {
		t.Fatal(err)
	}
	<-started
	crashed.parallel.nc.Close() // the process is gone: no ack, no heartbeat
	died := time.Now()
	t.Cleanup(func() { close(stuck); crashed.Close() })

	next, err := Open(t.Context(), comp, Options{Broker: b})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.Close() })
	got := make(chan time.Time, 1)
	err = next.Subscribe(t.Context(), sub, func(ctx context.Context, m *pubsub.Message) error {
		select {
		case got <- time.Now():
		default:
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case at := <-got:
		t.Logf("redelivered %s after the crash", at.Sub(died).Round(time.Millisecond))
		if at.Sub(died) > 10*time.Second {
			t.Errorf("redelivered after %s, want within 10s", at.Sub(died))
		}
	case <-time.After(15 * time.Second):
		t.Fatal("not redelivered within 15s of the crash")
	}
}
