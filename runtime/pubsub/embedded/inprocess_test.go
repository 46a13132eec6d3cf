package embedded_test

import (
	"slices"
	"strconv"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
)

// TestInProcessPublishAsTheComponent: on the embedded broker funcd publishes
// over an in-process connection instead of through components-contrib's
// pubsub.jetstream; what the stream holds must be what the component stores
// (data, Nats-Msg-Id from the CloudEvent's id, deduplication by it).
func TestInProcessPublishAsTheComponent(t *testing.T) {
	b := startBroker(t)
	inProc := open(t, jetstream(), embedded.Options{Broker: b})
	viaURL := jetstream()
	viaURL.Metadata["natsURL"] = b.URL()
	viaURL.Metadata["token"] = b.Token()
	component := open(t, viaURL, embedded.Options{Broker: b})
	js := jetStream(t, b)

	tests := []struct {
		name, data, wantID string
	}{
		{"cloudevent", `{"specversion":"1.0","id":"order-1","source":"s","type":"t","data":{"orderId":1}}`, "order-1"},
		{"numeric id", `{"specversion":"1.0","id":7,"source":"s","type":"t"}`, ""},
		{"not json", `orderId=1`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got [2]struct{ data, id string }
			for i, ps := range []*embedded.PubSub{inProc, component} {
				topic := "inproc-" + tt.name[:3] + string(rune('a'+i))
				if err := b.EnsureStream(topic, broker.Limits{}); err != nil { // the component creates none
					t.Fatal(err)
				}
				for j := range 2 { // the second is a duplicate when there is an id
					msg := &pubsub.Message{Topic: topic, Data: []byte(tt.data)}
					if i == 0 && j == 1 {
						msg.ID = tt.wantID // as the publish API hands it over
					}
					if err := ps.Publish(t.Context(), msg); err != nil {
						t.Fatal(err)
					}
				}
				info, err := js.StreamInfo(broker.StreamName(topic))
				if err != nil {
					t.Fatal(err)
				}
				wantMsgs := uint64(2)
				if tt.wantID != "" {
					wantMsgs = 1
				}
				if info.State.Msgs != wantMsgs {
					t.Errorf("publisher %d: stream holds %d messages, want %d", i, info.State.Msgs, wantMsgs)
				}
				m, err := js.GetMsg(broker.StreamName(topic), 1)
				if err != nil {
					t.Fatal(err)
				}
				got[i].data, got[i].id = string(m.Data), m.Header.Get("Nats-Msg-Id")
			}
			if got[0] != got[1] {
				t.Errorf("in-process stored %+v, the component %+v", got[0], got[1])
			}
			if got[0].id != tt.wantID || got[0].data != tt.data {
				t.Errorf("stored %+v, want id %q and the data as published", got[0], tt.wantID)
			}
		})
	}
}

// TestInProcessPublishTakesTheGivenID: the id the publish API hands over
// is the one deduplicated by; the data is not read for it.
func TestInProcessPublishTakesTheGivenID(t *testing.T) {
	b := startBroker(t)
	ps := open(t, jetstream(), embedded.Options{Broker: b})
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "given", Data: []byte(`{"id":"in-data"}`), ID: "given"}); err != nil {
		t.Fatal(err)
	}
	m, err := jetStream(t, b).GetMsg(broker.StreamName("given"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get("Nats-Msg-Id"); got != "given" {
		t.Errorf("Nats-Msg-Id %q, want the given id", got)
	}
}

// TestInProcessBulkPublish: a bulk publish to the embedded broker stores its
// entries in order, deduplicated by CloudEvent id like single publishes,
// and answers with no failed entry.
func TestInProcessBulkPublish(t *testing.T) {
	b := startBroker(t)
	ps := open(t, jetstream(), embedded.Options{Broker: b})
	const topic = "inproc-bulk"
	var entries []contrib.BulkMessageEntry
	for i, id := range []string{"a", "b", "a", "c"} { // the second "a" is a duplicate
		entries = append(entries, contrib.BulkMessageEntry{EntryId: strconv.Itoa(i), Event: []byte(`{"id":"` + id + `"}`)})
	}
	res, err := ps.BulkPublish(t.Context(), &contrib.BulkPublishRequest{Topic: topic, Entries: entries})
	if err != nil || len(res.FailedEntries) != 0 {
		t.Fatalf("BulkPublish: got %v, failed %v; want no error", err, res.FailedEntries)
	}
	js := jetStream(t, b)
	var got []string
	for seq := uint64(1); seq <= 3; seq++ {
		m, err := js.GetMsg(broker.StreamName(topic), seq)
		if err != nil {
			t.Fatalf("message %d: %v", seq, err)
		}
		got = append(got, m.Header.Get("Nats-Msg-Id"))
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("stream holds ids %v, want %v", got, want)
	}
	if info, err := js.StreamInfo(broker.StreamName(topic)); err != nil || info.State.Msgs != 3 {
		t.Errorf("stream info: %v, %+v; want 3 messages", err, info)
	}
}
