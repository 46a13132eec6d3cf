package subscriptions

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// bulk starts a bulk subscription to order-processor, which accepts
// batches when optIn.
func bulk(t *testing.T, url string, optIn bool, size, waitMs int32) *fakePubSub {
	t.Helper()
	sub := resources.Subscription{Routes: resources.Routes{Default: "/order-processor"}, DeadLetterTopic: "dlq",
		BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: size, MaxAwaitDurationMs: waitMs}}
	cfg := Config{Target: staticTarget{"order-processor": url}, Batch: func(fn string) bool { return optIn && fn == "order-processor" }}
	_, ps := start(t, cfg, sub)
	return ps
}

// batches decodes the batches a function received, checking each is
// application/cloudevents-batch+json.
func batches(t *testing.T, got []received) [][]event.Event {
	t.Helper()
	var out [][]event.Event
	for _, r := range got {
		if ct := r.header.Get("Content-Type"); ct != delivery.BatchContentType {
			t.Fatalf("Content-Type = %q, want %q", ct, delivery.BatchContentType)
		}
		var evs []event.Event
		if err := json.Unmarshal([]byte(r.body), &evs); err != nil {
			t.Fatalf("batch body: %v", err)
		}
		out = append(out, evs)
	}
	return out
}

func TestBulkDeliveryFillsBatches(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	ps := bulk(t, srv.URL, true, 5, 1000)
	for i, err := range parallel(t, ps, 10) {
		if err != nil {
			t.Fatalf("message %d = %v, want nil (acked with its batch)", i, err)
		}
	}
	total, ids := 0, map[string]bool{}
	for _, b := range batches(t, *got) {
		if len(b) > 5 {
			t.Errorf("batch of %d, want at most maxMessagesCount 5", len(b))
		}
		for _, ev := range b {
			ids[ev.ID()] = true
			if ev.Extensions()["topic"] != "orders" {
				t.Errorf("event %s has topic %v, want the envelope's extensions kept", ev.ID(), ev.Extensions()["topic"])
			}
		}
		total += len(b)
	}
	if total != 10 || len(ids) != 10 {
		t.Errorf("got %d events (%d distinct) in %d batches, want 10", total, len(ids), len(*got))
	}
}

func TestBulkDeliveryWaitsAtMostMaxAwait(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	ps := bulk(t, srv.URL, true, 100, 30)
	for i, err := range parallel(t, ps, 3) {
		if err != nil {
			t.Fatalf("message %d = %v, want nil", i, err)
		}
	}
	if b := batches(t, *got); len(b) != 1 || len(b[0]) != 3 {
		t.Errorf("got %d batches, want one of 3 sent after maxAwaitDurationMs", len(b))
	}
}

func TestBulkOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		wantPost int
		wantDLQ  int
		wantNack bool
	}{
		{"2xx acks all", []int{200}, 1, 0, false},
		{"permanent dead-letters all", []int{422}, 1, 3, false},
		{"retry retries the batch", []int{503, 200}, 2, 0, false},
		{"retries spent dead-letter all", []int{503}, 1 + fastRetry.MaxRetries, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, "", tt.statuses...)
			ps := bulk(t, srv.URL, true, 3, 1000)
			for i, err := range parallel(t, ps, 3) {
				if (err != nil) != tt.wantNack {
					t.Errorf("message %d = %v, want error %v", i, err, tt.wantNack)
				}
			}
			if len(*got) != tt.wantPost {
				t.Errorf("function got %d POSTs, want %d", len(*got), tt.wantPost)
			}
			if n := len(ps.publishedOn("dlq")); n != tt.wantDLQ {
				t.Errorf("dead letters = %d, want %d", n, tt.wantDLQ)
			}
		})
	}
}

func TestBulkWithoutOptInDeliversSingleEvents(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	ps := bulk(t, srv.URL, false, 5, 1000)
	for i, err := range parallel(t, ps, 4) {
		if err != nil {
			t.Fatalf("message %d = %v, want nil", i, err)
		}
	}
	if len(*got) != 4 {
		t.Fatalf("function got %d POSTs, want 4 single events", len(*got))
	}
	for _, r := range *got {
		if r.header.Get("Ce-Id") == "" {
			t.Errorf("request without ce-id, want a binary-mode event")
		}
	}
}

func TestBatcherLateTimerDoesNotFlushNextBatch(t *testing.T) {
	var flushed [][]*item
	b := newBatcher(2, 0, func(items []*item) {
		flushed = append(flushed, items)
		for _, it := range items {
			it.done <- nil
		}
	})
	// A timer of the first (full) batch firing late must not flush a new one.
	b.mu.Lock()
	b.pending = []*item{{done: make(chan error, 1)}}
	b.gen = 1
	b.mu.Unlock()
	b.expire(0)
	if len(flushed) != 0 {
		t.Errorf("expired timer flushed %d batches, want 0", len(flushed))
	}
	b.expire(1)
	if len(flushed) != 1 {
		t.Errorf("current timer flushed %d batches, want 1", len(flushed))
	}
}
