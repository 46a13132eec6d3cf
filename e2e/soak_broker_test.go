//go:build soak

package e2e

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/funcd/funcd/runtime/broker"
)

// brokerView is what the broker holds after the soak: the order ids of
// the messages it kept, and whether the consumer group acknowledged
// every message.
type brokerView struct {
	stored       map[int]bool
	deadLettered map[int]bool // on the Subscription's deadLetterTopic
	allAcked     bool
	discarded    bool // retention removed the oldest messages
	describe     string
}

const (
	soakTopic    = "orders"
	soakDLQ      = "orders-deadletter"      // components/subscription.yaml's deadLetterTopic
	soakConsumer = "order-processor-orders" // the Subscription's name
)

// brokerState reads the topic and its consumer group from the broker, with
// funcd stopped: the embedded broker's store opened here, or redis-server.
func (s *soaking) brokerState() brokerView {
	v := brokerView{stored: map[int]bool{}, deadLettered: map[int]bool{}}
	if s.redis != nil {
		s.redisState(&v)
	} else {
		s.embeddedState(&v)
	}
	return v
}

func (s *soaking) embeddedState(v *brokerView) {
	b, err := broker.Start(broker.Config{StoreDir: filepath.Join(s.data, "jetstream"), Port: -1, MaxTopics: 1000})
	if err != nil {
		s.t.Fatalf("open the broker's store: %v", err)
	}
	defer b.Close()
	nc, err := b.Connect()
	if err != nil {
		s.t.Fatal(err)
	}
	defer nc.Close()
	js, err := nc.JetStream()
	if err != nil {
		s.t.Fatal(err)
	}
	stream := broker.StreamName(soakTopic)
	ci, err := js.ConsumerInfo(stream, soakConsumer)
	if err != nil {
		s.t.Fatalf("consumer %s: %v", soakConsumer, err)
	}
	si, err := js.StreamInfo(stream)
	if err != nil {
		s.t.Fatal(err)
	}
	v.allAcked = ci.NumPending == 0 && ci.NumAckPending == 0 && ci.AckFloor.Stream == si.State.LastSeq
	v.discarded = si.State.FirstSeq > 1
	v.describe = fmt.Sprintf("sequences %d-%d, consumer acknowledged through %d, %d pending, %d unacknowledged",
		si.State.FirstSeq, si.State.LastSeq, ci.AckFloor.Stream, ci.NumPending, ci.NumAckPending)
	for seq := si.State.FirstSeq; seq <= si.State.LastSeq; seq++ {
		if m, err := js.GetMsg(stream, seq); err == nil {
			addEnvelope(v.stored, m.Data)
		}
	}
	if dl, err := js.StreamInfo(broker.StreamName(soakDLQ)); err == nil {
		for seq := dl.State.FirstSeq; seq <= dl.State.LastSeq && dl.State.Msgs > 0; seq++ {
			if m, err := js.GetMsg(dl.Config.Name, seq); err == nil {
				addEnvelope(v.deadLettered, m.Data)
			}
		}
	}
}

func (s *soaking) redisState(v *brokerView) {
	rdb := redis.NewClient(&redis.Options{Addr: s.redis.Addr()})
	defer rdb.Close()
	ctx := s.t.Context()
	groups, err := rdb.XInfoGroups(ctx, soakTopic).Result()
	if err != nil {
		s.t.Fatalf("XINFO GROUPS %s: %v", soakTopic, err)
	}
	i := slices.IndexFunc(groups, func(g redis.XInfoGroup) bool { return g.Name == soakConsumer })
	if i < 0 {
		s.t.Fatalf("no consumer group %s on %s: %v", soakConsumer, soakTopic, groups)
	}
	g := groups[i]
	info, err := rdb.XInfoStream(ctx, soakTopic).Result()
	if err != nil {
		s.t.Fatal(err)
	}
	// Redis' lag can read high after restarts (entries-read is not exact
	// then); delivered up to the last entry with none pending is exact.
	v.allAcked = g.Pending == 0 && g.LastDeliveredID == info.LastGeneratedID
	v.describe = fmt.Sprintf("consumer group: delivered through %s of %s, %d pending", g.LastDeliveredID, info.LastGeneratedID, g.Pending)
	readStream(s.t, rdb, soakTopic, v.stored)
	readStream(s.t, rdb, soakDLQ, v.deadLettered)
}

// readStream notes the order ids of a Redis stream's envelopes.
func readStream(t *testing.T, rdb *redis.Client, stream string, ids map[int]bool) {
	for start := "-"; ; {
		msgs, err := rdb.XRangeN(t.Context(), stream, start, "+", 10000).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if data, ok := m.Values["data"].(string); ok {
				addEnvelope(ids, []byte(data))
			}
		}
		if len(msgs) < 10000 {
			return
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// addEnvelope notes the order id in a Dapr envelope.
func addEnvelope(ids map[int]bool, data []byte) {
	var env struct {
		Data struct {
			OrderID int `json:"orderId"`
		} `json:"data"`
	}
	if json.Unmarshal(data, &env) == nil && env.Data.OrderID > 0 {
		ids[env.Data.OrderID] = true
	}
}
