package embedded_test

import (
	"testing"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
)

// startBroker runs an embedded broker for the test, storing in dir or, by
// default, a new temporary folder.
func startBroker(t *testing.T, dir ...string) *broker.Broker {
	t.Helper()
	store := t.TempDir()
	if len(dir) > 0 {
		store = dir[0]
	}
	b, err := broker.Start(broker.Config{StoreDir: store, Port: -1})
	if err != nil {
		t.Fatalf("start broker: %v", err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// open opens comp and closes it when the test ends.
func open(t *testing.T, comp resources.Component, opts embedded.Options) *embedded.PubSub {
	t.Helper()
	ps, err := embedded.Open(t.Context(), comp, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}

// jetstream is the shipped orderpubsub component with a short ackWait, so
// failed messages come back quickly.
func jetstream() resources.Component {
	return resources.Component{
		Name: "orderpubsub", Type: "pubsub.jetstream", Version: "v1",
		Metadata: map[string]string{"ackWait": "1s"}, File: "pubsub.yaml",
	}
}

func TestJetStreamConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite waits for redeliveries; run without -short")
	}
	t.Parallel()
	pubsubtest.Run(t, func(t *testing.T) pubsub.PubSub {
		return open(t, jetstream(), embedded.Options{Broker: startBroker(t)})
	})
}

func TestInMemoryConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite waits for redeliveries; run without -short")
	}
	t.Parallel()
	features := pubsubtest.Features{
		NotDurable: "pubsub.in-memory delivers only to subscribers present at publish time and keeps nothing",
	}
	pubsubtest.RunWith(t, features, func(t *testing.T) pubsub.PubSub {
		comp := resources.Component{Name: "mem", Type: "pubsub.in-memory", Version: "v1"}
		return open(t, comp, embedded.Options{})
	})
}
