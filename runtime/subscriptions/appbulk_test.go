package subscriptions

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

func TestAppBulkDelivery(t *testing.T) {
	var mu sync.Mutex
	var got map[string]any
	status := http.StatusOK
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		_ = json.Unmarshal(body, &got)
		if r.URL.Path != "/bulk" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("dapr-api-token") != "tok" {
			t.Errorf("got %s %s %q", r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("dapr-api-token"))
		}
		var statuses []map[string]string
		for _, e := range got["entries"].([]any) {
			entry := e.(map[string]any)
			c := entry["event"].(map[string]any)["data"].(map[string]any)["case"].(string)
			if c != "missing" {
				statuses = append(statuses, map[string]string{"entryId": entry["entryId"].(string), "status": c})
			}
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]any{"statuses": statuses})
	}))
	defer app.Close()
	ps := &fakePubSub{}
	b, err := New(Config{
		Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders", DeadLetterTopic: "dlq",
			Routes: resources.Routes{Default: "/bulk"}, BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 4, MaxAwaitDurationMs: 2000}}},
		PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{"/bulk": app.URL},
		Retry: delivery.RetryPolicy{Multiplier: 1}, App: &App{ID: "sub", Token: "tok"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	cases := []string{"SUCCESS", "RETRY", "DROP", "missing"}
	errs := publishBulk(t, ps, cases)
	for i, err := range errs {
		if err != nil {
			t.Errorf("%s: handed back to the broker: %v", cases[i], err)
		}
	}
	if n := len(ps.publishedOn("dlq")); n != 3 {
		t.Errorf("dead-lettered %d, want 3 (RETRY, DROP, no status)", n)
	}
	if c := b.Status()[0].Counts; c.Delivered != 1 || c.DeadLettered != 3 {
		t.Errorf("counts %+v, want 1 delivered, 3 dead-lettered", c)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["type"] != "com.dapr.event.sent.bulk" || got["topic"] != "orders" || got["pubsubname"] != "orderpubsub" ||
		got["metadata"].(map[string]any)["pubsubName"] != "orderpubsub" || len(got["entries"].([]any)) != 4 {
		t.Errorf("bulk envelope %v", got)
	}
}
