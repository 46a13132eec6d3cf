package subscriptions

import (
	"net/http"
	"testing"

	"github.com/funcd/funcd/runtime/resources"
)

// TestStatusCounts: each way a message can end is counted once, under the
// subscription it came through.
func TestStatusCounts(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		dlq      string
		acked    bool
		want     Counts
	}{
		{"delivered first time", []int{200}, "", true, Counts{Delivered: 1}},
		{"delivered after two retries", []int{503, 500, 200}, "", true, Counts{Delivered: 1, Retries: 2}},
		{"permanent, dead-lettered", []int{400}, "orders-dlq", true, Counts{DeadLettered: 1}},
		{"permanent, no dead-letter topic", []int{422}, "", true, Counts{Dropped: 1}},
		{"retries spent, dead-lettered", []int{503}, "orders-dlq", true, Counts{DeadLettered: 1, Retries: 3}},
		{"retries spent, back to the broker", []int{503}, "", false, Counts{Returned: 1, Retries: 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := function(t, "", tt.statuses...)
			b, ps := setup(t, srv.URL, resources.Subscription{DeadLetterTopic: tt.dlq})
			err := deliver(t, ps, envelope(t, "application/json", []byte(order)))
			if (err == nil) != tt.acked {
				t.Fatalf("handler returned %v, want acknowledged=%v", err, tt.acked)
			}
			st := b.Status()
			if len(st) != 1 || st[0].Name != "orders-sub" || st[0].PubSub != "orderpubsub" || st[0].Topic != "orders" {
				t.Fatalf("Status() = %+v, want the one subscription", st)
			}
			if st[0].Counts != tt.want {
				t.Errorf("counts %+v, want %+v", st[0].Counts, tt.want)
			}
		})
	}
	// Not a CloudEvent: dead-lettered without a delivery.
	srv, got := function(t, "", http.StatusOK)
	b, ps := setup(t, srv.URL, resources.Subscription{DeadLetterTopic: "orders-dlq"})
	if err := deliver(t, ps, []byte(`{"not":"an event"}`)); err != nil {
		t.Fatal(err)
	}
	if c := b.Status()[0].Counts; c != (Counts{DeadLettered: 1}) || len(*got) != 0 {
		t.Errorf("counts %+v after %d deliveries, want one dead letter and none delivered", c, len(*got))
	}
}
