package embedded_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
)

// parallelJetStream is the shipped component in concurrency "parallel".
func parallelJetStream() resources.Component {
	comp := jetstream()
	comp.Metadata["concurrency"] = "parallel"
	return comp
}

func TestJetStreamParallelConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite waits for redeliveries; run without -short")
	}
	t.Parallel()
	pubsubtest.Run(t, func(t *testing.T) pubsub.PubSub {
		return open(t, parallelJetStream(), embedded.Options{Broker: startBroker(t)})
	})
}

func TestJetStreamParallelRefusesOtherAckPolicies(t *testing.T) {
	b := startBroker(t)
	for _, policy := range []string{"all", "none"} {
		comp := parallelJetStream()
		comp.Metadata["ackPolicy"] = policy
		ps, err := embedded.Open(t.Context(), comp, embedded.Options{Broker: b})
		if err == nil {
			ps.Close()
			t.Errorf("ackPolicy %s: got nil error, want a refusal", policy)
			continue
		}
		for _, want := range []string{"orderpubsub", "pubsub.yaml", `needs ackPolicy "explicit"`, `not "` + policy + `"`} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ackPolicy %s: got %q, want it to contain %q", policy, err, want)
			}
		}
	}
}

// TestJetStreamParallelExternalNATS: parallel mode on a NATS server funcd
// does not run, with token authentication and a stream the operator made
// (the component creates none): it connects with the component's
// credentials, bounds the messages in flight and delivers a failed one
// again.
func TestJetStreamParallelExternalNATS(t *testing.T) {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		Authorization: "s3cret", NoSigs: true, NoLog: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	nc, err := nats.Connect(srv.ClientURL(), nats.Token("s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&nats.StreamConfig{Name: "ORDERS", Subjects: []string{"orders"}}); err != nil {
		t.Fatal(err)
	}

	comp := parallelJetStream()
	comp.Metadata["natsURL"] = srv.ClientURL()
	comp.Metadata["token"] = "wrong"
	if ps, err := embedded.Open(t.Context(), comp, embedded.Options{}); err == nil {
		ps.Close()
		t.Fatal("Open with a wrong token: got nil error")
	}
	comp.Metadata["token"] = "s3cret"
	ps := open(t, comp, embedded.Options{})
	sub := pubsub.Subscription{Topic: "orders", Consumer: "c", Metadata: map[string]string{"maxConcurrency": "4"}}
	var running gauge
	var mu sync.Mutex
	seen := map[string]bool{}
	failed := map[string]bool{}
	err = ps.Subscribe(t.Context(), sub, func(ctx context.Context, m *pubsub.Message) error {
		defer running.enter()()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		if data := string(m.Data); data == "m3" && !failed[data] {
			failed[data] = true
			return errors.New("first attempt fails") // Nak: delivered again after ackWait (1s)
		}
		seen[string(m.Data)] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	const total = 12
	for i := range total {
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivered %d of %d", n, total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if p := running.peak.Load(); p < 2 || p > 4 {
		t.Errorf("at most %d in flight at once, want 2..4", p)
	}
}

// TestJetStreamParallelInFlight: messages are handed over several at a
// time, never more than the Subscription's maxConcurrency, and each is
// acknowledged only after its handler returned.
func TestJetStreamParallelInFlight(t *testing.T) {
	const limit, total = 4, 24
	ps := open(t, parallelJetStream(), embedded.Options{Broker: startBroker(t)})
	var running gauge
	var mu sync.Mutex
	seen := map[string]int{}
	done := make(chan struct{})
	err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "par", Consumer: "c", Metadata: map[string]string{"maxConcurrency": fmt.Sprint(limit)}},
		func(ctx context.Context, m *pubsub.Message) error {
			defer running.enter()()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			defer mu.Unlock()
			seen[string(m.Data)]++
			if len(seen) == total && seen[string(m.Data)] == 1 { // a redelivery must not close done again
				close(done)
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for i := range total {
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "par", Data: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		t.Fatalf("delivered %d of %d", n, total)
	}
	if p := running.peak.Load(); p < 2 || p > limit {
		t.Errorf("at most %d messages were in flight at once, want 2..%d", p, limit)
	}
	time.Sleep(1500 * time.Millisecond) // past ackWait (1s): nothing may come back
	mu.Lock()
	defer mu.Unlock()
	for data, n := range seen {
		if n != 1 {
			t.Errorf("%s delivered %d times, want once (acknowledged after its handler)", data, n)
		}
	}
}

// TestJetStreamParallelKeepsUnfinished: messages whose handlers fail, or
// are still running when the subscription ends, are not acknowledged: the
// next subscriber on the same consumer receives them.
func TestJetStreamParallelKeepsUnfinished(t *testing.T) {
	b := startBroker(t)
	ps := open(t, parallelJetStream(), embedded.Options{Broker: b})
	sub := pubsub.Subscription{Topic: "unfinished", Consumer: "c"}
	ctx, cancel := context.WithCancel(t.Context())
	var started atomic.Int32
	release := make(chan struct{})
	err := ps.Subscribe(ctx, sub, func(ctx context.Context, m *pubsub.Message) error {
		started.Add(1)
		if string(m.Data) == "fails" {
			return errors.New("handler failed")
		}
		<-release // interrupted: the subscription ends first
		return errors.New("subscription ended")
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range []string{"a", "b", "fails"} {
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "unfinished", Data: []byte(data)}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for started.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	close(release)
	ps.Close()

	ps2 := open(t, parallelJetStream(), embedded.Options{Broker: b})
	ch, h := receiver()
	if err := ps2.Subscribe(t.Context(), sub, h); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for len(got) < 3 {
		select {
		case m := <-ch:
			got[string(m.Data)] = true
		case <-time.After(10 * time.Second):
			t.Fatalf("after a restart got %v, want a, b and fails again", got)
		}
	}
}

// TestJetStreamParallelOrdered: a Subscription with ordered "true" gets its
// messages one at a time, in the order they were published.
func TestJetStreamParallelOrdered(t *testing.T) {
	const total = 30
	ps := open(t, parallelJetStream(), embedded.Options{Broker: startBroker(t)})
	ch := make(chan string, total)
	var now atomic.Int32
	var overlapped atomic.Bool
	err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "ordered", Consumer: "c", Metadata: map[string]string{"ordered": "true"}},
		func(ctx context.Context, m *pubsub.Message) error {
			if now.Add(1) > 1 {
				overlapped.Store(true)
			}
			defer now.Add(-1)
			time.Sleep(time.Millisecond)
			ch <- string(m.Data)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	for i := range total {
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "ordered", Data: fmt.Appendf(nil, "%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range total {
		select {
		case got := <-ch:
			if want := fmt.Sprintf("%02d", i); got != want {
				t.Fatalf("message %d: got %s, want %s (in publish order)", i, got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d of %d messages", i, total)
		}
	}
	if overlapped.Load() {
		t.Error("two handlers ran at once on an ordered subscription")
	}
}

// gauge counts handlers running at once and the most seen.
type gauge struct{ now, peak atomic.Int32 }

// enter counts one handler in; the returned func counts it out.
func (g *gauge) enter() func() {
	n := g.now.Add(1)
	for p := g.peak.Load(); n > p && !g.peak.CompareAndSwap(p, n); p = g.peak.Load() {
	}
	return func() { g.now.Add(-1) }
}
