package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"

	"github.com/funcd/funcd/runtime/pubsub"
)

var errBroken = errors.New("fake daprd: stream broken")

func open(t *testing.T, f *fakeDaprd) *PubSub {
	t.Helper()
	ps, err := New(f.start(t), "orderpubsub", Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { ps.Close() })
	return ps
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name, data, contentType string
		md                      map[string]string // default k=v
		wantCT                  string
		wantMD                  map[string]string
	}{
		{name: "envelope keeps the event", data: `{"specversion":"1.0","id":"a","source":"s","type":"t"}`,
			wantCT: "application/cloudevents+json", wantMD: map[string]string{"k": "v"}},
		{name: "raw payload", data: `{"orderId":1}`, contentType: "application/json",
			wantCT: "application/json", wantMD: map[string]string{"k": "v", "rawPayload": "true"}},
		{name: "raw bytes without a content type", data: "\x00\x01",
			wantCT: "application/octet-stream", wantMD: map[string]string{"k": "v", "rawPayload": "true"}},
		{name: "envelope delivered by this adapter (dead letter)", data: `{"specversion":"1.0","id":"a","source":"s","type":"t"}`,
			md: map[string]string{"rawPayload": "true"}, wantCT: "application/octet-stream", wantMD: map[string]string{"rawPayload": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDaprd()
			ps := open(t, f)
			md := tt.md
			if md == nil {
				md = map[string]string{"k": "v"}
			}
			msg := &pubsub.Message{Topic: "orders", Data: []byte(tt.data), ContentType: tt.contentType, Metadata: md}
			if err := ps.Publish(t.Context(), msg); err != nil {
				t.Fatalf("Publish: %v", err)
			}
			got := f.lastPublished(t)
			if got.GetPubsubName() != "orderpubsub" || got.GetTopic() != "orders" || string(got.GetData()) != tt.data {
				t.Errorf("got %s/%s %q, want orderpubsub/orders %q", got.GetPubsubName(), got.GetTopic(), got.GetData(), tt.data)
			}
			if got.GetDataContentType() != tt.wantCT {
				t.Errorf("got content type %q, want %q", got.GetDataContentType(), tt.wantCT)
			}
			if len(got.GetMetadata()) != len(tt.wantMD) {
				t.Errorf("got metadata %v, want %v", got.GetMetadata(), tt.wantMD)
			}
			for k, v := range tt.wantMD {
				if got.GetMetadata()[k] != v {
					t.Errorf("got metadata %v, want %v", got.GetMetadata(), tt.wantMD)
				}
			}
		})
	}
}

func TestSubscribeOutcomes(t *testing.T) {
	f := newFakeDaprd()
	ps := open(t, f)
	got := make(chan *pubsub.Message, 4)
	err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders", Metadata: map[string]string{"m": "1"}},
		func(_ context.Context, m *pubsub.Message) error {
			got <- m
			if string(m.Data) != "" && json.Valid(m.Data) && idOf(m) == "fail" {
				return errors.New("handler failed")
			}
			return nil
		})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	init := <-f.initial
	if init.GetPubsubName() != "orderpubsub" || init.GetTopic() != "orders" || init.GetMetadata()["m"] != "1" ||
		init.GetMetadata()["rawPayload"] != "true" || init.DeadLetterTopic != nil {
		t.Errorf("got initial request %v, want orderpubsub/orders with metadata m=1, rawPayload=true and no dead-letter topic", init)
	}
	for _, tt := range []struct {
		id   string
		want runtimev1pb.TopicEventResponse_TopicEventResponseStatus
	}{{"ok", runtimev1pb.TopicEventResponse_SUCCESS}, {"fail", runtimev1pb.TopicEventResponse_RETRY}} {
		stored := envelopeJSON(tt.id)
		f.events <- event(tt.id, "application/octet-stream", stored)
		m := receive(t, got)
		if m.Topic != "orders" || string(m.Data) != stored || m.Metadata["rawPayload"] != "true" {
			t.Errorf("got %s %s %v, want orders, the stored bytes %s, rawPayload=true", m.Topic, m.Data, m.Metadata, stored)
		}
		a := answer(t, f)
		if a.GetId() != tt.id || a.GetStatus().GetStatus() != tt.want {
			t.Errorf("got answer %v, want %s for %s", a, tt.want, tt.id)
		}
	}
}

func TestSubscribeRawPayload(t *testing.T) {
	f := newFakeDaprd()
	ps := open(t, f)
	got := make(chan *pubsub.Message, 1)
	sub := pubsub.Subscription{Topic: "orders", Metadata: map[string]string{"rawPayload": "true"}}
	if err := ps.Subscribe(t.Context(), sub, func(_ context.Context, m *pubsub.Message) error { got <- m; return nil }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	<-f.initial
	f.events <- event("r", "application/octet-stream", "\x00raw")
	if m := receive(t, got); string(m.Data) != "\x00raw" || m.ContentType != "application/octet-stream" {
		t.Errorf("got %q (%s), want the raw bytes", m.Data, m.ContentType)
	}
}

func TestSubscribeAgainAfterBrokenStream(t *testing.T) {
	f := newFakeDaprd()
	ps := open(t, f)
	got := make(chan *pubsub.Message, 2)
	if err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders"}, func(_ context.Context, m *pubsub.Message) error { got <- m; return nil }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	<-f.initial
	f.breaks <- struct{}{}
	select {
	case init := <-f.initial:
		if init.GetTopic() != "orders" {
			t.Errorf("got a new subscription to %q, want orders", init.GetTopic())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no new subscription 5s after the stream broke")
	}
	f.events <- event("after", "application/octet-stream", envelopeJSON("after"))
	if m := receive(t, got); idOf(m) != "after" {
		t.Errorf("got %s, want the event sent after re-subscribing", m.Data)
	}
}

func TestClose(t *testing.T) {
	f := newFakeDaprd()
	ps := open(t, f)
	stopped := make(chan struct{})
	sub := pubsub.Subscription{Topic: "orders", Stopped: func() { close(stopped) }}
	if err := ps.Subscribe(t.Context(), sub, func(context.Context, *pubsub.Message) error { return nil }); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	if err := ps.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case <-stopped:
	default:
		t.Error("Close returned before the subscription's Stopped was called")
	}
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(`{}`)}); !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Publish after Close: got %v, want ErrClosed", err)
	}
	err := ps.Subscribe(t.Context(), pubsub.Subscription{Topic: "orders"}, func(context.Context, *pubsub.Message) error { return nil })
	if !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("Subscribe after Close: got %v, want ErrClosed", err)
	}
	if err := ps.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
}

func TestWaitComponents(t *testing.T) {
	f := newFakeDaprd()
	c := f.start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	if err := WaitComponents(ctx, c, "orderpubsub"); err == nil {
		t.Fatal("got nil before the component was loaded, want an error")
	}
	f.mu.Lock()
	f.components = []string{"statestore", "orderpubsub"}
	f.mu.Unlock()
	if err := WaitComponents(t.Context(), c, "orderpubsub"); err != nil {
		t.Errorf("got %v once loaded, want nil", err)
	}
}

func TestNewRejects(t *testing.T) {
	if _, err := New(nil, "orderpubsub", Options{}); err == nil {
		t.Error("nil client: got nil error")
	}
	if _, err := New(newFakeDaprd().start(t), "", Options{}); err == nil {
		t.Error("empty name: got nil error")
	}
}

// envelopeJSON is a stored envelope, as daprd streams it with rawPayload.
func envelopeJSON(id string) string {
	return `{"specversion":"1.0","id":"` + id + `","source":"checkout","type":"com.dapr.event.sent","topic":"orders","data":{"orderId":1}}`
}

func event(id, contentType, data string) *runtimev1pb.TopicEventRequest {
	return &runtimev1pb.TopicEventRequest{
		Id: id, Source: "checkout", Type: "com.dapr.event.sent", SpecVersion: "1.0",
		DataContentType: contentType, Data: []byte(data), Topic: "orders", PubsubName: "orderpubsub",
	}
}

func idOf(m *pubsub.Message) string {
	var ce struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(m.Data, &ce)
	return ce.ID
}

func receive(t *testing.T, ch <-chan *pubsub.Message) *pubsub.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(5 * time.Second):
		t.Fatal("no message within 5s")
		return nil
	}
}

func answer(t *testing.T, f *fakeDaprd) *runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1 {
	t.Helper()
	select {
	case a := <-f.answers:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no answer within 5s")
		return nil
	}
}

// TestCancelLetsInFlightAnswer ends a subscription while its handler runs:
// events that come while it drains are answered RETRY, the handler's
// success still reaches daprd before the stream closes, so the event is
// acknowledged rather than delivered again, and then the subscription
// reports that it stopped.
func TestCancelLetsInFlightAnswer(t *testing.T) {
	f := newFakeDaprd()
	ps := open(t, f)
	ctx, cancel := context.WithCancel(t.Context())
	entered, release, stopped := make(chan struct{}), make(chan struct{}), make(chan struct{})
	sub := pubsub.Subscription{Topic: "orders", Stopped: func() { close(stopped) }}
	err := ps.Subscribe(ctx, sub, func(_ context.Context, m *pubsub.Message) error {
		if idOf(m) == "inflight" {
			close(entered)
			<-release
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	<-f.initial
	f.events <- event("inflight", "application/octet-stream", envelopeJSON("inflight"))
	<-entered
	cancel()
	// The subscription is draining once it answers a new event RETRY;
	// until then such events are handled (SUCCESS).
	for i := 0; ; i++ {
		id := fmt.Sprintf("late-%d", i)
		f.events <- event(id, "application/octet-stream", envelopeJSON(id))
		a := answer(t, f)
		if a.GetId() != id {
			t.Fatalf("got answer %v while the event in flight is held, want one for %s", a, id)
		}
		if a.GetStatus().GetStatus() == runtimev1pb.TopicEventResponse_RETRY {
			break
		}
	}
	select {
	case <-stopped:
		t.Fatal("Stopped was called while a handler was still running")
	default:
	}
	close(release)
	if a := answer(t, f); a.GetId() != "inflight" || a.GetStatus().GetStatus() != runtimev1pb.TopicEventResponse_SUCCESS {
		t.Errorf("got answer %v, want SUCCESS for the event in flight", a)
	}
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stopped not called within 5s of the last handler's answer")
	}
}
