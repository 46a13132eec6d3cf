package pubsubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
)

var errNack = errors.New("pubsubtest: handler asks for redelivery")

func testPublishThenSubscribe(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	publish(t, ps, topic, 1)
	in := newInbox()
	subscribe(t, t.Context(), ps, topic, "reader", in.handler(nil))
	checkIntact(t, in.receive(t, 1, Redeliver)[0], topic, 1)
}

func testSubscribeThenPublish(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	in := newInbox()
	subscribe(t, t.Context(), ps, topic, "reader", in.handler(nil))
	publish(t, ps, topic, 1)
	checkIntact(t, in.receive(t, 1, Redeliver)[0], topic, 1)
}

func checkIntact(t *testing.T, got *pubsub.Message, topic string, n int) {
	t.Helper()
	if got.Topic != topic {
		t.Errorf("got Topic %q, want %q", got.Topic, topic)
	}
	if want := event(topic, n); string(got.Data) != string(want) {
		t.Errorf("got Data %s, want %s", got.Data, want)
	}
}

func testAckIsNotRedelivered(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	in := newInbox()
	subscribe(t, t.Context(), ps, topic, "reader", in.handler(nil))
	publish(t, ps, topic, 1)
	in.receive(t, 1, Redeliver)
	in.quiet(t, Quiet)
}

func testErrorIsRedelivered(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	in := newInbox()
	var failed atomic.Bool
	subscribe(t, t.Context(), ps, topic, "reader", in.handler(func(context.Context, *pubsub.Message) error {
		if failed.CompareAndSwap(false, true) {
			return errNack
		}
		return nil
	}))
	publish(t, ps, topic, 1)
	got := in.receive(t, 2, Redeliver)
	for _, m := range got {
		checkIntact(t, m, topic, 1)
	}
	in.quiet(t, Quiet) // acked the second time
}

func testConsumersFanOut(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	a, b := newInbox(), newInbox()
	subscribe(t, t.Context(), ps, topic, "consumer-a", a.handler(nil))
	subscribe(t, t.Context(), ps, topic, "consumer-b", b.handler(nil))
	publish(t, ps, topic, 1, 2, 3, 4, 5)
	want := []int{1, 2, 3, 4, 5}
	for name, in := range map[string]inbox{"consumer-a": a, "consumer-b": b} {
		if got := numbers(t, topic, in.receive(t, len(want), Redeliver)); !slices.Equal(got, want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
		in.quiet(t, Quiet/2)
	}
}

// testResumeConsumer stops a subscription with one message acked and one
// failed, publishes another while it is away, and subscribes again with the
// same consumer: the failed and the new message arrive, the acked one not.
func testResumeConsumer(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	first := newInbox()
	ctx, cancel := context.WithCancel(t.Context())
	// The inbox records a delivery before the reply: the subscription is
	// stopped only once the reply to 1 is an ack, not while its handler
	// may still see the cancelled context and fail it.
	acked := make(chan struct{})
	var ackOnce sync.Once
	stopped := subscribe(t, ctx, ps, topic, "resumer", first.handler(func(ctx context.Context, m *pubsub.Message) error {
		if ctx.Err() != nil || idOf(m) != fmt.Sprintf("%s-%d", topic, 1) {
			return errNack
		}
		ackOnce.Do(func() { close(acked) })
		return nil
	}))
	publish(t, ps, topic, 1, 2)
	if got := numbers(t, topic, first.receive(t, 2, Redeliver)); !slices.Equal(got[:2], []int{1, 2}) {
		t.Fatalf("got %v before the restart, want [1 2]", got)
	}
	select {
	case <-acked:
	case <-time.After(Redeliver):
		t.Fatalf("the handler did not ack 1 within %v", Redeliver)
	}
	cancel()
	waitStopped(t, stopped)
	publish(t, ps, topic, 3)

	second := newInbox()
	subscribe(t, t.Context(), ps, topic, "resumer", second.handler(nil))
	if got := numbers(t, topic, second.receive(t, 2, Redeliver)); !slices.Equal(got, []int{2, 3}) {
		t.Errorf("got %v after the restart, want [2 3]", got)
	}
	second.quiet(t, Quiet)
}

func testCancelStopsDelivery(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	in := newInbox()
	ctx, cancel := context.WithCancel(t.Context())
	stopped := subscribe(t, ctx, ps, topic, "reader", in.handler(nil))
	publish(t, ps, topic, 1)
	in.receive(t, 1, Redeliver)
	cancel()
	waitStopped(t, stopped)
	publish(t, ps, topic, 2)
	in.quiet(t, Quiet)
}

func testClose(t *testing.T, ps pubsub.PubSub) {
	topic := newTopic()
	in := newInbox()
	stopped := subscribe(t, t.Context(), ps, topic, "reader", in.handler(nil))
	if err := ps.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	waitStopped(t, stopped)
	err := ps.Publish(t.Context(), &pubsub.Message{Topic: topic, Data: event(topic, 1)})
	if !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Publish after Close: got %v, want ErrClosed", err)
	}
	err = ps.Subscribe(t.Context(), pubsub.Subscription{Topic: topic, Consumer: "late"}, in.handler(nil))
	if !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Subscribe after Close: got %v, want ErrClosed", err)
	}
	in.quiet(t, Quiet/5)
}

func testManyMessages(t *testing.T, ps pubsub.PubSub) {
	const n = 200
	topic := newTopic()
	in := newInbox()
	subscribe(t, t.Context(), ps, topic, "reader", in.handler(nil))
	want := make([]int, n)
	for i := range want {
		want[i] = i
	}
	publish(t, ps, topic, want...)
	if got := numbers(t, topic, in.receive(t, n, 3*Redeliver)); !slices.Equal(got, want) {
		t.Errorf("got %v, want 0..%d once each", got, n-1)
	}
	in.quiet(t, Quiet/5)
}

// idOf returns the CloudEvent id of m, or "" if it has none.
func idOf(m *pubsub.Message) string {
	var ce struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m.Data, &ce)
	return ce.ID
}

func describe(msgs []*pubsub.Message) string {
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.Topic + ":" + idOf(m)
	}
	return "[" + strings.Join(ids, " ") + "]"
}
