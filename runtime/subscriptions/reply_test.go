package subscriptions

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// answering is a function that answers every request with status, header
// and body.
func answering(t *testing.T, status int, header map[string]string, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

var binaryReply = map[string]string{
	"Ce-Specversion": "1.0", "Ce-Id": "reply-1", "Ce-Source": "order-processor",
	"Ce-Type": "com.example.order.shipped", "Content-Type": "application/json",
}

func TestReplies(t *testing.T) {
	structured := `{"specversion":"1.0","id":"reply-1","source":"order-processor","type":"com.example.order.shipped",` +
		`"datacontenttype":"application/json","data":{"status":"shipped"}}`
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		replyTopic  string
		wantReplies int
	}{
		{"binary reply", 200, binaryReply, `{"status":"shipped"}`, "shipped", 1},
		{"structured reply", 200, map[string]string{"Content-Type": "application/cloudevents+json"}, structured, "shipped", 1},
		{"batch reply", 200, map[string]string{"Content-Type": delivery.BatchContentType}, "[" + structured + "," + structured + "]", "shipped", 2},
		{"reply without reply topic is ignored", 200, binaryReply, `{"status":"shipped"}`, "", 0},
		{"plain body is not a reply, nor a Dapr status", 200, map[string]string{"Content-Type": "application/json"}, `{"status":"RETRY"}`, "shipped", 0},
		{"invalid CloudEvent reply is dropped", 200, map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "x"}, `{}`, "shipped", 0},
		{"empty 204", 204, nil, "", "shipped", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := answering(t, tt.status, tt.header, tt.body)
			sub := resources.Subscription{Metadata: map[string]string{MetaReplyTopic: tt.replyTopic}, DeadLetterTopic: "dlq"}
			_, ps := setup(t, url, sub)
			if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil {
				t.Fatalf("handler = %v, want nil (ack)", err)
			}
			got := ps.publishedOn("shipped")
			if len(got) != tt.wantReplies {
				t.Fatalf("replies published = %d, want %d", len(got), tt.wantReplies)
			}
			if n := len(ps.publishedOn("dlq")); n != 0 {
				t.Errorf("dead letters = %d, want 0", n)
			}
			for _, m := range got {
				checkReplyEnvelope(t, m.Data)
			}
		})
	}
}

// checkReplyEnvelope checks a published reply is the function's event in a
// daprd envelope: its own id, source, type and data, plus topic, pubsubname
// and the trigger's trace context.
func checkReplyEnvelope(t *testing.T, data []byte) {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatalf("reply is not JSON: %v", err)
	}
	for k, want := range map[string]any{
		"id": "reply-1", "source": "order-processor", "type": "com.example.order.shipped", "specversion": "1.0",
		"topic": "shipped", "pubsubname": "orderpubsub", "datacontenttype": "application/json",
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
	} {
		if env[k] != want {
			t.Errorf("reply %s = %v, want %v", k, env[k], want)
		}
	}
	if d, _ := env["data"].(map[string]any); d["status"] != "shipped" {
		t.Errorf("reply data = %v, want {status: shipped}", env["data"])
	}
	if _, ok := env["time"]; !ok {
		t.Error("reply has no time, want one added as daprd adds it")
	}
}

func TestReplyPublishFailureNacks(t *testing.T) {
	url := answering(t, 200, binaryReply, `{"status":"shipped"}`)
	_, ps := setup(t, url, resources.Subscription{Metadata: map[string]string{MetaReplyTopic: "shipped"}})
	ps.failPub = errors.New("broker down")
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err == nil {
		t.Fatal("handler = nil, want an error: the reply was not stored")
	}
}

// TestPermanentPublishFailures: a reply or a dead letter the broker refuses
// for good (too large, invalid topic) does not send the message round the
// broker's redelivery forever: the trigger is dead-lettered, or dropped.
func TestPermanentPublishFailures(t *testing.T) {
	tooLarge := fmt.Errorf("publish: %w", pubsub.ErrTooLarge)
	tests := []struct {
		name               string
		failOn             map[string]error
		wantDead, wantDrop int
		wantErr            bool
	}{
		{name: "reply too large", failOn: map[string]error{"shipped": tooLarge}, wantDead: 1},
		{name: "reply and dead letter too large", failOn: map[string]error{"shipped": tooLarge, "dlq": tooLarge}, wantDrop: 1},
		{name: "reply topic invalid", failOn: map[string]error{"shipped": pubsub.ErrInvalidTopic}, wantDead: 1},
		{name: "reply failing for now", failOn: map[string]error{"shipped": errors.New("broker down")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := answering(t, 200, binaryReply, `{"status":"shipped"}`)
			b, ps := setup(t, url, resources.Subscription{Metadata: map[string]string{MetaReplyTopic: "shipped"}, DeadLetterTopic: "dlq"})
			ps.failOn = tt.failOn
			err := deliver(t, ps, envelope(t, "application/json", []byte(order)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("handler: got %v, want error %v", err, tt.wantErr)
			}
			st := b.Status()[0]
			if st.DeadLettered != int64(tt.wantDead) || st.Dropped != int64(tt.wantDrop) {
				t.Errorf("got %d dead-lettered, %d dropped, want %d, %d", st.DeadLettered, st.Dropped, tt.wantDead, tt.wantDrop)
			}
		})
	}
}

func TestReplyTopicMustDiffer(t *testing.T) {
	sub := resources.Subscription{Name: "s", PubsubName: "orderpubsub", Topic: "orders", File: "s.yaml",
		Routes: resources.Routes{Default: "/f"}, Metadata: map[string]string{MetaReplyTopic: "orders"}}
	_, err := New(Config{Subscriptions: []resources.Subscription{sub}, PubSubs: registry{"orderpubsub": &fakePubSub{}}, Target: staticTarget{}})
	if err == nil {
		t.Fatal("New = nil, want an error: replies would loop")
	}
}
