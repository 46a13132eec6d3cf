package subscriptionstest_test

import (
	"strconv"
	"testing"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions/subscriptionstest"
)

var concurrency = strconv.Itoa(subscriptionstest.Concurrency)

// open opens comp with opts and closes it when the test ends.
func open(t *testing.T, comp resources.Component, opts embedded.Options) pubsub.PubSub {
	t.Helper()
	comp.Version, comp.File = "v1", comp.Type+".yaml"
	ps, err := embedded.Open(t.Context(), comp, opts)
	if err != nil {
		t.Fatalf("open %s: %v", comp.Type, err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}

func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the binding conformance suite runs real brokers and waits for redeliveries; run without -short")
	}
	t.Parallel()
}

// TestJetStream: the embedded broker as `funcd up` runs it by default
// (components/pubsub.yaml: concurrency "parallel", so up to Concurrency
// deliveries in flight, each acknowledged after the function answered),
// with a short ackWait so the suite's quiet periods see a message left
// unacknowledged.
func TestJetStream(t *testing.T) {
	skipShort(t)
	subscriptionstest.Run(t, func(t *testing.T) pubsub.PubSub {
		return openJetStream(t, "parallel")
	})
}

// TestJetStreamSingle: Dapr's default concurrency for the component, one
// message at a time.
func TestJetStreamSingle(t *testing.T) {
	skipShort(t)
	subscriptionstest.Run(t, func(t *testing.T) pubsub.PubSub {
		return openJetStream(t, "single")
	})
}

func openJetStream(t *testing.T, concurrency string) pubsub.PubSub {
	b, err := broker.Start(broker.Config{StoreDir: t.TempDir(), Port: -1})
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	comp := resources.Component{Name: "bindingtest", Type: "pubsub.jetstream", Metadata: map[string]string{
		"ackWait": "2s", "concurrency": concurrency,
	}}
	return open(t, comp, embedded.Options{Broker: b})
}

// TestRedis: a real redis-server per case. A message left pending is
// redelivered once pending processingTimeout ms, checked every
// redeliverInterval ms (defaults 60s and 15s, too long for a test).
func TestRedis(t *testing.T) {
	skipShort(t)
	subscriptionstest.Run(t, func(t *testing.T) pubsub.PubSub {
		comp := resources.Component{Name: "bindingtest", Type: "pubsub.redis", Metadata: map[string]string{
			"redisHost": pubsubtest.StartRedis(t), "concurrency": concurrency,
			"processingTimeout": "2000", "redeliverInterval": "500",
		}}
		return open(t, comp, embedded.Options{})
	})
}

// TestKafka: kfake per case, topics with one partition per parallel
// delivery (the component consumes each partition in its own goroutine).
// Dapr's kafka component retries a failed message itself, every
// backOffDuration (5s by default).
func TestKafka(t *testing.T) {
	if testing.Short() {
		t.Skip("the binding conformance suite runs real brokers and waits for redeliveries; run without -short")
	}
	if pubsubtest.RunWithoutRace(t, pubsubtest.KafkaRaces) {
		return
	}
	t.Parallel()
	subscriptionstest.Run(t, func(t *testing.T) pubsub.PubSub {
		comp := resources.Component{Name: "bindingtest", Type: "pubsub.kafka", Metadata: map[string]string{
			"brokers": pubsubtest.StartKafka(t, subscriptionstest.Concurrency), "clientId": "bindingtest",
			"authType": "none", "initialOffset": "oldest", "disableTls": "true", "backOffDuration": "200ms",
		}}
		return open(t, comp, embedded.Options{})
	})
}

// TestInMemory: pubsub.in-memory delivers one message at a time per topic.
func TestInMemory(t *testing.T) {
	skipShort(t)
	subscriptionstest.Run(t, func(t *testing.T) pubsub.PubSub {
		return open(t, resources.Component{Name: "bindingtest", Type: "pubsub.in-memory"}, embedded.Options{})
	})
}
