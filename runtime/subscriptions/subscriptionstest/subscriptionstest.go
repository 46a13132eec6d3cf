package subscriptionstest

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// What the suite expects from the PubSubs it is given, and how long it waits.
const (
	// Concurrency is the most deliveries the binding may have in flight
	// for a subscription (its maxConcurrency). Openers configure the
	// component to hand over that many messages at once where it can
	// (Redis: concurrency 16; Kafka: 16 partitions; JetStream: parallel);
	// components that deliver one at a time (JetStream single, in-memory)
	// pass too.
	Concurrency = 16
	// Wait bounds every wait for something that must happen. It is
	// generous: the suite runs on loaded machines and under -race, and a
	// passing run never waits that long.
	Wait = 2 * time.Minute
	// Quiet is how long the suite watches for deliveries that must not
	// happen. It must exceed the component's redelivery delay (JetStream
	// ackWait, Redis processingTimeout + redeliverInterval), so a message
	// wrongly left unacknowledged is seen again.
	Quiet = 3 * time.Second
)

// Opener returns a fresh PubSub, isolated from every other one it returned,
// and closes it (and whatever backs it) when t ends.
type Opener func(t *testing.T) pubsub.PubSub

// Run runs every case against the PubSubs open returns.
func Run(t *testing.T, open Opener) {
	cases := []struct {
		name string
		run  func(t *testing.T, open Opener)
	}{
		{name: "AckOnce", run: testAckOnce},
		{name: "FlakyFunction", run: testFlakyFunction},
		{name: "PermanentFailure", run: testPermanentFailure},
		{name: "RetriesSpent", run: testRetriesSpent},
		{name: "Expired", run: testExpired},
		{name: "RawPayload", run: testRawPayload},
		{name: "ManyInParallel", run: testManyInParallel},
		{name: "Reply", run: testReply},
		{name: "Routing", run: testRouting},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open)
		})
	}
}

// fastRetry keeps the cases quick: a few retries, milliseconds apart.
var fastRetry = delivery.RetryPolicy{MaxRetries: 3, Initial: time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 2, Jitter: 0.2}

// pubsubName is the component name the subscriptions use.
const pubsubName = "bindingtest"

// config is what a case changes in its subscription and binding.
type config struct {
	answer       func(call) answer // how function "fn" answers each call
	retry        delivery.RetryPolicy
	noDeadLetter bool
	metadata     map[string]string // subscription metadata
	// routes replaces the default route to "fn"; others starts the other
	// functions they name.
	routes *resources.Routes
	others map[string]func(call) answer
	// replies sets the subscription's replyTopic and reads it.
	replies bool
}

// harness is one case's PubSub, functions, binding and topic readers.
type harness struct {
	t      *testing.T
	ps     pubsub.PubSub
	topic  string
	fn     *function            // function "fn"
	others map[string]*function // config.others
	dead   *inbox               // what lands on the dead-letter topic
	reply  *inbox               // what lands on the reply topic
}

var topics atomic.Int64

// setup opens a PubSub, starts the functions and the readers of the
// dead-letter and reply topics, then a binding that subscribes the
// functions to a topic of the case's own.
func setup(t *testing.T, open Opener, cfg config) *harness {
	t.Helper()
	h := &harness{t: t, ps: open(t), topic: fmt.Sprintf("bindingtest-%d", topics.Add(1)), others: map[string]*function{}}
	h.fn = startFunction(t, cfg.answer)
	urls := target{"fn": h.fn.srv.URL}
	for name, answer := range cfg.others {
		h.others[name] = startFunction(t, answer)
		urls[name] = h.others[name].srv.URL
	}
	sub := h.subscription(cfg)
	if cfg.retry == (delivery.RetryPolicy{}) {
		cfg.retry = fastRetry
	}
	h.start(subscriptions.Config{
		Subscriptions: []resources.Subscription{sub},
		PubSubs:       registry{pubsubName: h.ps},
		Target:        urls,
		Retry:         cfg.retry,
		Timeout:       30 * time.Second,
	})
	return h
}

// subscription is the case's Subscription resource; it starts reading the
// dead-letter and reply topics it names. The metadata keys are the
// binding's (subscriptions.MetaMaxConcurrency, subscriptions.MetaReplyTopic).
func (h *harness) subscription(cfg config) resources.Subscription {
	meta := map[string]string{"maxConcurrency": strconv.Itoa(Concurrency)}
	maps.Copy(meta, cfg.metadata)
	sub := resources.Subscription{
		Name: h.topic + "-fn", PubsubName: pubsubName, Topic: h.topic,
		Routes: resources.Routes{Default: "/fn"}, Metadata: meta, File: "bindingtest",
	}
	if cfg.routes != nil {
		sub.Routes = *cfg.routes
	}
	if !cfg.noDeadLetter {
		sub.DeadLetterTopic = h.topic + "-dead"
		h.dead = h.read(sub.DeadLetterTopic)
	}
	if cfg.replies {
		meta["replyTopic"] = h.topic + "-replies"
		h.reply = h.read(meta["replyTopic"])
	}
	return sub
}

// start starts a binding and stops it when the case ends.
func (h *harness) start(cfg subscriptions.Config) {
	h.t.Helper()
	b, err := subscriptions.New(cfg)
	if err != nil {
		h.t.Fatalf("subscriptions.New: %v", err)
	}
	if err := b.Start(h.t.Context()); err != nil {
		h.t.Fatalf("binding Start: %v", err)
	}
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), Wait)
		defer cancel()
		if err := b.Stop(ctx); err != nil {
			h.t.Errorf("binding Stop: %v", err)
		}
	})
}

// read collects what is published on topic from now on.
func (h *harness) read(topic string) *inbox {
	h.t.Helper()
	in := &inbox{}
	s := pubsub.Subscription{Topic: topic, Consumer: topic + "-reader"}
	if err := h.ps.Subscribe(h.t.Context(), s, in.handle); err != nil {
		h.t.Fatalf("subscribe to %s: %v", topic, err)
	}
	return in
}

// registry is the binding's view of the one PubSub under test.
type registry map[string]pubsub.PubSub

func (r registry) Get(name string) (pubsub.PubSub, bool) { ps, ok := r[name]; return ps, ok }

// target resolves function names to fixed URLs.
type target map[string]string

func (tg target) Acquire(_ context.Context, fn string) (string, func(bool), error) {
	url, ok := tg[fn]
	if !ok {
		return "", nil, fmt.Errorf("no function %q", fn)
	}
	return url, func(bool) {}, nil
}

// inbox collects the messages of a topic.
type inbox struct {
	mu   sync.Mutex
	msgs []*pubsub.Message
}

func (in *inbox) handle(_ context.Context, m *pubsub.Message) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.msgs = append(in.msgs, m)
	return nil
}

func (in *inbox) all() []*pubsub.Message {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]*pubsub.Message(nil), in.msgs...)
}

// waitFor polls cond until it holds, failing after Wait with what it
// waited for and the state it saw.
func waitFor(t *testing.T, what string, cond func() bool, state func() string) {
	t.Helper()
	deadline := time.Now().Add(Wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s; %s", Wait, what, state())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
