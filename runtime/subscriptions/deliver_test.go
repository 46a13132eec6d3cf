package subscriptions

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

const order = `{"orderId":1,"customerName":"Customer 1","amount":10.0,"status":"Pending"}`

func TestDeliverBinaryCloudEvent(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		data        []byte
		wantType    string
		wantBody    string
	}{
		// daprd embeds JSON data as an object, so keys come back sorted.
		{"json object", "application/json", []byte(order), "application/json",
			`{"amount":10.0,"customerName":"Customer 1","orderId":1,"status":"Pending"}`},
		{"text/plain wrapped JSON", "", []byte(order), "text/plain", order},
		{"octet-stream as data_base64", "application/octet-stream", []byte{0, 1, 2}, "application/octet-stream", "\x00\x01\x02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, "", http.StatusOK)
			_, ps := setup(t, srv.URL, resources.Subscription{})
			if err := deliver(t, ps, envelope(t, tt.contentType, tt.data)); err != nil {
				t.Fatalf("handler = %v, want nil (ack)", err)
			}
			if len(*got) != 1 {
				t.Fatalf("function got %d requests, want 1", len(*got))
			}
			r := (*got)[0]
			for h, want := range map[string]string{
				"Ce-Id": "id-1", "Ce-Source": "checkout", "Ce-Type": "com.dapr.event.sent", "Ce-Specversion": "1.0",
				"Ce-Topic": "orders", "Ce-Pubsubname": "orderpubsub", "Content-Type": tt.wantType,
				"Traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
			} {
				if g := r.header.Get(h); g != want {
					t.Errorf("header %s = %q, want %q", h, g, want)
				}
			}
			if r.body != tt.wantBody {
				t.Errorf("body = %q, want %q", r.body, tt.wantBody)
			}
		})
	}
}

func TestOutcomes(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int
		reply     string
		dlq       string
		wantErr   bool
		wantCalls int
		wantDLQ   int
	}{
		{"2xx acks", []int{200}, "", "dlq", false, 1, 0},
		{"reply with status field is not a Dapr status", []int{200}, `{"status":"shipped"}`, "dlq", false, 1, 0},
		{"400 dead-letters once", []int{400}, "", "dlq", false, 1, 1},
		{"422 without dead-letter topic is dropped", []int{422}, "", "", false, 1, 0},
		{"500 twice then 200 acks", []int{500, 500, 200}, "", "dlq", false, 3, 0},
		{"404 is retried", []int{404, 200}, "", "dlq", false, 2, 0},
		{"retries spent dead-letters", []int{503}, "", "dlq", false, 4, 1},
		{"retries spent without dead-letter topic nacks", []int{503}, "", "", true, 4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, tt.reply, tt.statuses...)
			_, ps := setup(t, srv.URL, resources.Subscription{DeadLetterTopic: tt.dlq})
			data := envelope(t, "application/json", []byte(order))
			err := deliver(t, ps, data)
			if (err != nil) != tt.wantErr {
				t.Errorf("handler = %v, want error %v", err, tt.wantErr)
			}
			if len(*got) != tt.wantCalls {
				t.Errorf("function called %d times, want %d", len(*got), tt.wantCalls)
			}
			dl := ps.publishedOn("dlq")
			if len(dl) != tt.wantDLQ {
				t.Fatalf("dead letters = %d, want %d", len(dl), tt.wantDLQ)
			}
			if len(dl) == 1 && string(dl[0].Data) != string(data) {
				t.Errorf("dead letter data = %s, want the original envelope", dl[0].Data)
			}
		})
	}
}

func TestUnreachableFunctionIsRetriedThenNacked(t *testing.T) {
	srv, _ := function(t, "", http.StatusOK)
	url := srv.URL
	srv.Close()
	_, ps := setup(t, url, resources.Subscription{})
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err == nil {
		t.Fatal("handler = nil, want an error so the broker redelivers")
	}
}

func TestDeadLetterPublishFailureNacks(t *testing.T) {
	srv, _ := function(t, "", http.StatusBadRequest)
	_, ps := setup(t, srv.URL, resources.Subscription{DeadLetterTopic: "dlq"})
	ps.failPub = errors.New("broker down")
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err == nil {
		t.Fatal("handler = nil, want an error: the dead letter was not stored")
	}
}

func TestBadMessagesAreDeadLettered(t *testing.T) {
	expired := strings.Replace(string(envelope(t, "application/json", []byte(order))), `"id":"id-1"`,
		`"id":"id-1","expiration":"2000-01-01T00:00:00Z"`, 1)
	tests := []struct{ name, data string }{
		{"not JSON", "hello"},
		{"JSON but not a CloudEvent", `{"orderId":1}`},
		{"expired", expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, "", http.StatusOK)
			_, ps := setup(t, srv.URL, resources.Subscription{DeadLetterTopic: "dlq"})
			if err := deliver(t, ps, []byte(tt.data)); err != nil {
				t.Fatalf("handler = %v, want nil (dead-lettered)", err)
			}
			if len(*got) != 0 {
				t.Errorf("function called %d times, want 0", len(*got))
			}
			if n := len(ps.publishedOn("dlq")); n != 1 {
				t.Errorf("dead letters = %d, want 1", n)
			}
		})
	}
}

func TestRawPayload(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	_, ps := setup(t, srv.URL, resources.Subscription{Metadata: map[string]string{"rawPayload": "true"}})
	if err := deliver(t, ps, []byte(order)); err != nil {
		t.Fatalf("handler = %v, want nil", err)
	}
	if len(*got) != 1 {
		t.Fatalf("function got %d requests, want 1", len(*got))
	}
	if body := (*got)[0].body; body != order {
		t.Errorf("body = %q, want the raw payload %q (base64 %s)", body, order, base64.StdEncoding.EncodeToString([]byte(order)))
	}
}

func TestStopRefusesNewMessages(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	b, ps := setup(t, srv.URL, resources.Subscription{})
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	if err := b.Stop(ctx); err != nil {
		t.Fatalf("Stop = %v", err)
	}
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); !errors.Is(err, delivery.ErrStopping) {
		t.Errorf("handler after Stop = %v, want delivery.ErrStopping", err)
	}
	if len(*got) != 0 {
		t.Errorf("function called %d times after Stop, want 0", len(*got))
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	sub := resources.Subscription{Name: "s", PubsubName: "missing", Topic: "t", Routes: resources.Routes{Default: "/f"}}
	_, err := New(Config{Subscriptions: []resources.Subscription{sub}, PubSubs: registry{}, Target: staticTarget{}})
	if err == nil || !strings.Contains(err.Error(), `"missing"`) {
		t.Errorf("New with a missing component = %v, want an error naming it", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without PubSubs and delivery.Target = nil, want an error")
	}
}

func TestStopAbortsWithoutDeadLettering(t *testing.T) {
	entered := make(chan struct{}, 1)
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		entered <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(hang.Close)
	b, ps := start(t, Config{Target: staticTarget{"order-processor": hang.URL}, Retry: delivery.RetryPolicy{Multiplier: 1}},
		resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq"})
	done := make(chan error, 1)
	go func() { done <- deliver(t, ps, envelope(t, "application/json", []byte(order))) }()
	<-entered
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := b.Stop(ctx); err == nil {
		t.Error("Stop = nil, want the aborted delivery reported")
	}
	if err := <-done; err == nil {
		t.Error("handler = nil, want an error so the broker redelivers")
	}
	if n := len(ps.publishedOn("dlq")); n != 0 {
		t.Errorf("dead letters = %d, want 0: a delivery cut short by Stop is not a failure", n)
	}
}
