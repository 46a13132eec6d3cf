package embedded_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
)

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name    string
		comp    resources.Component
		wantErr []string
		is      error
	}{
		{
			name:    "unsupported type",
			comp:    resources.Component{Name: "ps", Type: "pubsub.rabbitmq", Version: "v1", File: "a.yaml"},
			wantErr: []string{"ps", "a.yaml", `"pubsub.rabbitmq"`, strings.Join(embedded.Types(), " ")},
			is:      embedded.ErrUnsupportedType,
		},
		{
			name:    "not a pub/sub",
			comp:    resources.Component{Name: "st", Type: "state.redis", Version: "v1", File: "a.yaml"},
			wantErr: []string{"st", `"state.redis"`, "pubsub.jetstream"},
			is:      embedded.ErrUnsupportedType,
		},
		{
			name:    "version",
			comp:    resources.Component{Name: "ps", Type: "pubsub.in-memory", Version: "v2", File: "a.yaml"},
			wantErr: []string{"ps", "a.yaml", `version "v2" is not supported`, "v1"},
		},
		{
			name:    "jetstream without natsURL or broker",
			comp:    resources.Component{Name: "ps", Type: "pubsub.jetstream", Version: "v1", File: "a.yaml"},
			wantErr: []string{"ps", "a.yaml", "natsURL is empty", "no embedded broker"},
		},
		{
			name: "component init fails",
			comp: resources.Component{Name: "ps", Type: "pubsub.jetstream", Version: "v1", File: "a.yaml",
				Metadata: map[string]string{"natsURL": "nats://127.0.0.1:4222", "deliverPolicy": "sometimes"}},
			wantErr: []string{"ps", "a.yaml", "init", "deliver policy sometimes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := embedded.Open(t.Context(), tt.comp, embedded.Options{})
			if err == nil {
				ps.Close()
				t.Fatal("got nil error, want one")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got %q, want it to contain %q", err, want)
				}
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("got %v, want errors.Is %v", err, tt.is)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	got := embedded.Types()
	if !slices.IsSorted(got) || !slices.Contains(got, "pubsub.jetstream") || !slices.Contains(got, "pubsub.in-memory") {
		t.Errorf("got %v, want a sorted list with pubsub.jetstream and pubsub.in-memory", got)
	}
	for _, typ := range got {
		ps, err := embedded.Open(t.Context(), resources.Component{Name: "x", Type: typ, Version: "v2"}, embedded.Options{})
		if err == nil || errors.Is(err, embedded.ErrUnsupportedType) {
			ps.Close()
			t.Errorf("%s: got %v, want a version error: every listed type is supported", typ, err)
		}
	}
}

// receiver returns a handler that sends every message to a channel and acks.
func receiver() (chan *pubsub.Message, pubsub.Handler) {
	ch := make(chan *pubsub.Message, 100)
	return ch, func(_ context.Context, m *pubsub.Message) error { ch <- m; return nil }
}

func receive(t *testing.T, ch chan *pubsub.Message, want string) {
	t.Helper()
	select {
	case m := <-ch:
		if string(m.Data) != want {
			t.Errorf("got %s, want %s", m.Data, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("got nothing in 10s, want %s", want)
	}
}

func TestConsumerNames(t *testing.T) {
	b := startBroker(t)
	ps := open(t, jetstream(), embedded.Options{Broker: b, AppID: "checkout"})
	tests := []struct{ name, consumer, durable string }{
		{name: "subscription name", consumer: "order-processor-orders", durable: "order-processor-orders"},
		{name: "dots", consumer: "orders.eu.processor", durable: "orders_eu_processor"},
		{name: "path separators", consumer: `team/orders\eu`},
		{name: "spaces and wildcards", consumer: "my * > consumer"},
		{name: "app id by default", consumer: "", durable: "checkout"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topic := "names-" + string(rune('a'+i))
			ch, h := receiver()
			sub := pubsub.Subscription{Topic: topic, Consumer: tt.consumer}
			if err := ps.Subscribe(t.Context(), sub, h); err != nil {
				t.Fatalf("Subscribe with consumer %q: %v", tt.consumer, err)
			}
			if err := ps.Publish(t.Context(), &pubsub.Message{Topic: topic, Data: []byte(`"hi"`)}); err != nil {
				t.Fatal(err)
			}
			receive(t, ch, `"hi"`)
			if tt.durable == "" {
				return
			}
			js := jetStream(t, b)
			if _, err := js.ConsumerInfo(broker.StreamName(topic), tt.durable); err != nil {
				t.Errorf("got %v, want a durable consumer %q", err, tt.durable)
			}
		})
	}
}

// jetStream returns a client of b.
func jetStream(t *testing.T, b *broker.Broker) nats.JetStreamContext {
	t.Helper()
	nc, err := b.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// TestPublishRefusals: what no retry can store is told apart from a
// transient failure, so the publish API answers 413 or 400 rather than 500.
func TestPublishRefusals(t *testing.T) {
	ps := open(t, jetstream(), embedded.Options{Broker: startBroker(t)})
	tests := []struct {
		name  string
		topic string
		size  int
		want  error
	}{
		{name: "over the broker's max payload", topic: "orders", size: 2 << 20, want: pubsub.ErrTooLarge},
		{name: "wildcard topic", topic: "orders.*", size: 2, want: pubsub.ErrInvalidTopic},
		{name: "topic with a space", topic: "a b", size: 2, want: pubsub.ErrInvalidTopic},
		{name: "topic too long", topic: strings.Repeat("t", 300), size: 2, want: pubsub.ErrInvalidTopic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ps.Publish(t.Context(), &pubsub.Message{Topic: tt.topic, Data: []byte(strings.Repeat("x", tt.size))})
			if !errors.Is(err, tt.want) || !pubsub.Permanent(err) {
				t.Errorf("got %v, want %v (permanent)", err, tt.want)
			}
		})
	}
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(`{}`)}); err != nil || pubsub.Permanent(err) {
		t.Errorf("a small message: got %v, want it stored", err)
	}
}

// TestStreamLimitsFromMetadata: the Component's streamMax* and
// duplicateWindow metadata shape the streams of its topics on the embedded
// broker; bad values refuse to open, naming the key.
func TestStreamLimitsFromMetadata(t *testing.T) {
	b := startBroker(t)
	comp := jetstream()
	comp.Metadata[embedded.MetaStreamMaxAge] = "2h"
	comp.Metadata[embedded.MetaStreamMaxMsgs] = "500"
	comp.Metadata[embedded.MetaDuplicateWindow] = "90s"
	ps := open(t, comp, embedded.Options{Broker: b})
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "limited", Data: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	info, err := jetStream(t, b).StreamInfo(broker.StreamName("limited"))
	if err != nil {
		t.Fatal(err)
	}
	if c := info.Config; c.MaxAge != 2*time.Hour || c.MaxMsgs != 500 || c.MaxBytes != broker.DefaultMaxBytes || c.Duplicates != 90*time.Second {
		t.Errorf("got age %s, %d messages, %d bytes, duplicate window %s, want 2h, 500, the default bytes and 90s",
			c.MaxAge, c.MaxMsgs, c.MaxBytes, c.Duplicates)
	}
	for _, bad := range []struct {
		key  string // the one the error names
		meta map[string]string
	}{
		{embedded.MetaStreamMaxAge, map[string]string{embedded.MetaStreamMaxAge: "a week"}},
		{embedded.MetaStreamMaxBytes, map[string]string{embedded.MetaStreamMaxBytes: "-1"}},
		{embedded.MetaStreamMaxMsgs, map[string]string{embedded.MetaStreamMaxMsgs: "1e6"}},
		{embedded.MetaDuplicateWindow, map[string]string{embedded.MetaDuplicateWindow: "10ms"}},
		{embedded.MetaDuplicateWindow, map[string]string{embedded.MetaDuplicateWindow: "2h", embedded.MetaStreamMaxAge: "1h"}},
	} {
		comp := jetstream()
		maps.Copy(comp.Metadata, bad.meta)
		if _, err := embedded.Open(t.Context(), comp, embedded.Options{Broker: b}); err == nil || !strings.Contains(err.Error(), bad.key) {
			t.Errorf("%v: got %v, want an error naming %s", bad.meta, err, bad.key)
		}
	}
}

// TestTopicLimit: past the broker's bound, a publish to a new topic is
// refused with pubsub.ErrTopicLimit (the publish API's 403).
func TestTopicLimit(t *testing.T) {
	b, err := broker.Start(broker.Config{StoreDir: t.TempDir(), Port: -1, MaxTopics: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	ps := open(t, jetstream(), embedded.Options{Broker: b})
	for i, topic := range []string{"one", "two", "three"} {
		err := ps.Publish(t.Context(), &pubsub.Message{Topic: topic, Data: []byte(`{}`)})
		if want := i == 2; errors.Is(err, pubsub.ErrTopicLimit) != want || !pubsub.Permanent(err) && want {
			t.Errorf("publish to %s: got %v, want the topic limit: %v", topic, err, want)
		}
	}
}
