package embedded

import (
	"cmp"
	"sync"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
	"github.com/nats-io/nats.go"

	"github.com/funcd/funcd/runtime/resources"
)

// heartbeatsPerAckWait is how many in-progress heartbeats a delivery
// sends per ack wait: one lost or late still leaves room for the next.
const heartbeatsPerAckWait = 3

// heartbeat tells the broker every ackWait/heartbeatsPerAckWait that msg
// is still being processed, which restarts its ack wait, until stop.
func (p *parallel) heartbeat(msg *nats.Msg, ackWait time.Duration) (stop func()) {
	every := cmp.Or(ackWait, resources.DefaultJetStreamAckWait) / heartbeatsPerAckWait
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock() // t is set before its func reads it
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if err := msg.InProgress(); err != nil {
			p.log.Debug("in-progress heartbeat", "subject", msg.Subject, "error", err)
		}
		t.Reset(every)
	})
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// KeepsAlive reports whether this adapter keeps c's messages from
// redelivery for as long as their delivery runs: pubsub.jetstream with
// concurrency "parallel", whose consumer reports each delivery in progress
// (heartbeat). Dapr's own components, and daprd, do not.
func KeepsAlive(c resources.Component) bool {
	return c.Type == "pubsub.jetstream" && c.Metadata["concurrency"] == string(contrib.Parallel)
}
