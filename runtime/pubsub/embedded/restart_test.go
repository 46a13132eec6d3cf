package embedded_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
)

// TestResumeAfterRestart is the runtime killed mid-delivery: one message
// acked, one failed, the component and the broker closed, then both started
// again on the same store. The subscription resumes with the failed message
// and what was published meanwhile, not the acked one.
func TestResumeAfterRestart(t *testing.T) {
	dir := t.TempDir()
	b1, err := broker.Start(broker.Config{StoreDir: dir, Port: -1})
	if err != nil {
		t.Fatal(err)
	}
	ps1, err := embedded.Open(t.Context(), jetstream(), embedded.Options{Broker: b1})
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan string, 100)
	err = ps1.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: "order-processor-orders"},
		func(_ context.Context, m *pubsub.Message) error {
			seen <- string(m.Data)
			if string(m.Data) == `"acked"` {
				return nil
			}
			return errors.New("function is down")
		})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{`"acked"`, `"failed"`} {
		if err := ps1.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
		if got := <-seen; got != data {
			t.Fatalf("got %s, want %s", got, data)
		}
	}
	// An acknowledgement is asynchronous: wait until the broker has applied
	// it, or the restart legitimately delivers "acked" again (at-least-once).
	waitAckFloor(t, b1, broker.StreamName("orders"), "order-processor-orders", 1)
	if err := errors.Join(ps1.Close(), b1.Close()); err != nil {
		t.Fatalf("close: %v", err)
	}

	b2 := startBroker(t, dir)
	ps2 := open(t, jetstream(), embedded.Options{Broker: b2})
	if err := ps2.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(`"later"`)}); err != nil {
		t.Fatal(err)
	}
	ch, h := receiver()
	if err := ps2.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: "order-processor-orders"}, h); err != nil {
		t.Fatalf("Subscribe after restart: %v", err)
	}
	got := map[string]bool{}
	for range 2 {
		select {
		case m := <-ch:
			got[string(m.Data)] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("got %v after the restart, want the failed and the later message", got)
		}
	}
	if !got[`"failed"`] || !got[`"later"`] {
		t.Errorf("got %v after the restart, want the failed and the later message", got)
	}
	select {
	case m := <-ch:
		t.Errorf("got %s, want nothing more after the restart", m.Data)
	case <-time.After(2 * time.Second):
	}
}

// TestExternalNATS opens pubsub.jetstream with an explicit natsURL, as for
// a NATS server the user runs: no stream is created for it.
func TestExternalNATS(t *testing.T) {
	b := startBroker(t)
	comp := jetstream()
	comp.Metadata["natsURL"] = b.URL()
	comp.Metadata["token"] = b.Token()
	ps := open(t, comp, embedded.Options{})
	msg := &pubsub.Message{Topic: "orders", Data: []byte(`"x"`)}
	if err := ps.Publish(t.Context(), msg); err == nil {
		t.Fatal("Publish without a stream: got nil, want an error from the server")
	}
	if err := b.EnsureStream("orders", broker.Limits{}); err != nil {
		t.Fatal(err)
	}
	ch, h := receiver()
	if err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: "c"}, h); err != nil {
		t.Fatal(err)
	}
	if err := ps.Publish(t.Context(), msg); err != nil {
		t.Fatal(err)
	}
	receive(t, ch, `"x"`)
}

func TestCloseTwice(t *testing.T) {
	ps := open(t, jetstream(), embedded.Options{Broker: startBroker(t)})
	_, h := receiver()
	if err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: "c"}, h); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := ps.Close(); err != nil {
			t.Errorf("Close #%d: got %v, want nil", i+1, err)
		}
	}
}

// waitAckFloor waits until the consumer has acknowledged at least n messages.
func waitAckFloor(t *testing.T, b *broker.Broker, stream, consumer string, n uint64) {
	t.Helper()
	nc, err := b.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		info, err := js.ConsumerInfo(stream, consumer)
		if err == nil && info.AckFloor.Consumer >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s never acknowledged %d messages: %+v %v", consumer, n, info, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
