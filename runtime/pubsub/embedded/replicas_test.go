package embedded_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
)

// TestRedisReplicasShareOneConsumer runs two replicas of a subscriber with
// one consumerID, as two binding pods do with consumerID "{appID}":
// components-contrib v1.16.1's pubsub.redis uses consumerID both as the
// consumer group and as the consumer name (XREADGROUP, XCLAIM), and has no
// separate key for the name. The replicas still share the stream's
// messages without duplicates, and a message one of them is delivering is
// taken over by the other only once it has been pending processingTimeout:
// reclaiming goes by pending time over the whole group (XPENDING), not by
// consumer name. What keeps replicas from duplicating in-flight messages is
// a delivery budget inside processingTimeout, which the binding enforces.
func TestRedisReplicasShareOneConsumer(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a redelivery; run without -short")
	}
	addr := pubsubtest.StartRedis(t)
	comp := resources.Component{
		Name: "orderpubsub", Type: "pubsub.redis", Version: "v1", File: "pubsub.yaml",
		Metadata: map[string]string{
			"redisHost": addr, "consumerID": "funcd-binding",
			"processingTimeout": "1500", "redeliverInterval": "250",
		},
	}
	const messages = 40
	const slow = "msg-0" // held past processingTimeout by the replica that gets it first
	var mu sync.Mutex
	got := map[string][]string{} // message -> replicas that received it, in order
	replicas := []string{"pod-a", "pod-b"}
	for _, name := range replicas {
		ps := open(t, comp, embedded.Options{AppID: "funcd-binding"})
		err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Consumer: "order-processor-orders"},
			func(ctx context.Context, m *pubsub.Message) error {
				mu.Lock()
				got[string(m.Data)] = append(got[string(m.Data)], name)
				first := len(got[string(m.Data)]) == 1
				mu.Unlock()
				delay := 20 * time.Millisecond // well inside processingTimeout
				if string(m.Data) == slow && first {
					delay = 2500 * time.Millisecond // past it
				}
				// pubsub.redis cancels ctx at processingTimeout; like the
				// binding, a handler whose delivery was cut short reports
				// it, so the message stays pending and is claimed again.
				select {
				case <-time.After(delay):
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		if err != nil {
			t.Fatalf("%s: Subscribe: %v", name, err)
		}
	}
	pub := open(t, comp, embedded.Options{AppID: "checkout"})
	for i := range messages {
		if err := pub.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(fmt.Sprintf("msg-%d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		done := len(got) == messages && len(got[slow]) >= 2
		mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // room for any wrong redelivery
	mu.Lock()
	defer mu.Unlock()
	perReplica := map[string]int{}
	for i := range messages {
		id := fmt.Sprintf("msg-%d", i)
		recv := got[id]
		if len(recv) == 0 {
			t.Errorf("%s was never delivered", id)
			continue
		}
		perReplica[recv[0]]++
		if id != slow && len(recv) != 1 {
			t.Errorf("%s delivered %d times (%v), want once: it was delivered well inside processingTimeout", id, len(recv), recv)
		}
	}
	if len(got[slow]) < 2 {
		t.Errorf("%s, held past processingTimeout, was delivered %d times, want it claimed again", slow, len(got[slow]))
	}
	for _, r := range replicas {
		if perReplica[r] == 0 {
			t.Errorf("replica %s got no message first (%v), want the two to share the stream", r, perReplica)
		}
	}
	t.Logf("first deliveries per replica %v; %s (held past processingTimeout) delivered to %v", perReplica, slow, got[slow])
}
