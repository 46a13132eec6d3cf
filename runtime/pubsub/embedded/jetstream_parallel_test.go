package embedded_test

import (
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/pubsub/embedded"
)

// TestJetStreamRefusesParallel: in parallel mode the jetstream component
// acknowledges each message as it arrives (nats.go auto-ack; the component
// does not ask for ManualAck), so a failed delivery was never redelivered
// and maxAckPending did not bound deliveries. Open refuses it and says why.
func TestJetStreamRefusesParallel(t *testing.T) {
	b := startBroker(t)
	comp := jetstream()
	comp.Metadata["concurrency"] = "parallel"
	ps, err := embedded.Open(t.Context(), comp, embedded.Options{Broker: b})
	if err == nil {
		ps.Close()
		t.Fatal("Open with concurrency parallel: got nil error, want a refusal")
	}
	for _, want := range []string{"orderpubsub", "pubsub.yaml", `concurrency "parallel"`, "ManualAck", "single"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("got %q, want it to contain %q", err, want)
		}
	}
	comp.Metadata["concurrency"] = "single"
	open(t, comp, embedded.Options{Broker: b})
}
