package pubsubtest

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Timing the suite expects from an implementation. A message whose handler
// failed must come back within Redeliver (for JetStream: open the component
// with an ackWait well below it, e.g. 1s); Quiet must be longer than that
// ackWait, so a wrongly redelivered message is seen.
const (
	Redeliver = 10 * time.Second
	Quiet     = 2500 * time.Millisecond
)

// Features describes what an implementation cannot do by design.
type Features struct {
	// NotDurable, when set, says why the implementation keeps no messages:
	// nothing published before a subscription, or while a consumer is away,
	// is delivered. The cases that need it are skipped with this reason.
	NotDurable string
}

// Opener returns a fresh PubSub, isolated from every other one it returned,
// and closes it (and whatever backs it) when t ends.
type Opener func(t *testing.T) pubsub.PubSub

// Run runs the whole suite against the PubSubs open returns.
func Run(t *testing.T, open Opener) { RunWith(t, Features{}, open) }

// RunWith runs the suite, skipping what features says cannot work.
func RunWith(t *testing.T, features Features, open Opener) {
	cases := []struct {
		name    string
		durable bool // needs messages kept for absent subscribers
		run     func(t *testing.T, ps pubsub.PubSub)
	}{
		{name: "PublishThenSubscribe", durable: true, run: testPublishThenSubscribe},
		{name: "SubscribeThenPublish", run: testSubscribeThenPublish},
		{name: "AckIsNotRedelivered", run: testAckIsNotRedelivered},
		{name: "ErrorIsRedelivered", run: testErrorIsRedelivered},
		{name: "ConsumersFanOut", run: testConsumersFanOut},
		{name: "ResumeConsumer", durable: true, run: testResumeConsumer},
		{name: "CancelStopsDelivery", run: testCancelStopsDelivery},
		{name: "Close", run: testClose},
		{name: "ManyMessages", run: testManyMessages},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.durable && features.NotDurable != "" {
				t.Skip("implementation is not durable: " + features.NotDurable)
			}
			c.run(t, open(t))
		})
	}
}

var topics atomic.Int64

// newTopic returns a topic name used by no other case.
func newTopic() string { return fmt.Sprintf("conformance-%d", topics.Add(1)) }

// event returns a CloudEvent envelope with a unique id, so brokers that
// deduplicate by id keep distinct messages apart.
func event(topic string, i int) []byte {
	return fmt.Appendf(nil, `{"specversion":"1.0","id":"%s-%d","source":"pubsubtest","type":"test","datacontenttype":"application/json","data":{"n":%d}}`, topic, i, i)
}

// publish publishes the events with numbers in ns to topic.
func publish(t *testing.T, ps pubsub.PubSub, topic string, ns ...int) {
	t.Helper()
	for _, n := range ns {
		if err := ps.Publish(t.Context(), &pubsub.Message{Topic: topic, Data: event(topic, n)}); err != nil {
			t.Fatalf("publish #%d to %s: %v", n, topic, err)
		}
	}
}

// inbox collects delivered messages.
type inbox chan *pubsub.Message

func newInbox() inbox { return make(inbox, 1024) }

// handler records every delivery, then answers with reply (nil: ack).
func (in inbox) handler(reply func(ctx context.Context, msg *pubsub.Message) error) pubsub.Handler {
	return func(ctx context.Context, msg *pubsub.Message) error {
		in <- msg
		if reply == nil {
			return nil
		}
		return reply(ctx, msg)
	}
}

// subscribe subscribes h to topic as consumer until ctx is done. The
// channel it returns is closed when the subscription has stopped (its
// Stopped; a second call panics).
func subscribe(t *testing.T, ctx context.Context, ps pubsub.PubSub, topic, consumer string, h pubsub.Handler) <-chan struct{} {
	t.Helper()
	stopped := make(chan struct{})
	sub := pubsub.Subscription{Topic: topic, Consumer: consumer, Stopped: func() { close(stopped) }}
	if err := ps.Subscribe(ctx, sub, h); err != nil {
		t.Fatalf("subscribe %s to %s: %v", consumer, topic, err)
	}
	return stopped
}

// waitStopped waits for a subscription that was told to stop to report
// that it has.
func waitStopped(t *testing.T, stopped <-chan struct{}) {
	t.Helper()
	select {
	case <-stopped:
	case <-time.After(Redeliver):
		t.Fatalf("the subscription did not report it had stopped (Stopped) within %v", Redeliver)
	}
}

// receive waits for n deliveries.
func (in inbox) receive(t *testing.T, n int, timeout time.Duration) []*pubsub.Message {
	t.Helper()
	var got []*pubsub.Message
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case m := <-in:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("got %d messages in %v, want %d: %s", len(got), timeout, n, describe(got))
		}
	}
	return got
}

// quiet fails if anything is delivered within d.
func (in inbox) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case m := <-in:
		t.Errorf("got %s, want no further delivery within %v", describe([]*pubsub.Message{m}), d)
	case <-time.After(d):
	}
}

// numbers returns the event numbers of msgs, sorted.
func numbers(t *testing.T, topic string, msgs []*pubsub.Message) []int {
	t.Helper()
	ns := make([]int, 0, len(msgs))
	for _, m := range msgs {
		var n int
		if _, err := fmt.Sscanf(idOf(m), topic+"-%d", &n); err != nil {
			t.Fatalf("got message %q, want an event of %s", m.Data, topic)
		}
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}
