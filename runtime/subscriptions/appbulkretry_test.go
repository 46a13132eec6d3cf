package subscriptions

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// bulkCallLog is what a bulk app saw: per call, the envelope id and each
// entry's case and id.
type bulkCallLog struct {
	mu    sync.Mutex
	calls []bulkSeen
}

type bulkSeen struct {
	id      string
	cases   []string
	entries map[string]string // case -> entryId
}

// The bulk retry tests run in a testing/synctest bubble, as the
// Resiliency tests do: retry waits and the batch's MaxAwaitDurationMs pass
// on its fake clock, so the durations asserted are exact.

// bulkRetryApp answers each entry by its case: "flaky" RETRY the first
// time, "retry" always RETRY, "missing" never a status, "success"
// SUCCESS; fail answers the whole call with that status first. It serves
// on pipeServer's in-memory network: the client to deliver with and the
// URL.
func bulkRetryApp(t *testing.T, log *bulkCallLog, fail int) (*http.Client, string) {
	return pipeServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var env struct {
			ID      string `json:"id"`
			Entries []struct {
				EntryID string `json:"entryId"`
				Event   struct {
					Data struct{ Case string } `json:"data"`
				} `json:"event"`
			} `json:"entries"`
		}
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &env); err != nil {
			t.Errorf("bulk body: %v", err)
		}
		log.mu.Lock()
		defer log.mu.Unlock()
		seen := bulkSeen{id: env.ID, entries: map[string]string{}}
		var statuses []map[string]string
		for _, e := range env.Entries {
			c := e.Event.Data.Case
			seen.cases = append(seen.cases, c)
			seen.entries[c] = e.EntryID
			st := map[string]string{"flaky": "RETRY", "retry": "RETRY", "success": "SUCCESS"}[c]
			if c == "flaky" && len(log.calls) > 0 {
				st = "SUCCESS"
			}
			if st != "" {
				statuses = append(statuses, map[string]string{"entryId": e.EntryID, "status": st})
			}
		}
		slices.Sort(seen.cases)
		log.calls = append(log.calls, seen)
		if fail != 0 && len(log.calls) == 1 {
			w.WriteHeader(fail)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"statuses": statuses})
	}))
}

// publishBulk hands cases to the binding at once, so they leave in one
// batch, and returns each message's settlement.
func publishBulk(t *testing.T, ps *fakePubSub, cases []string) []error {
	t.Helper()
	errs := make([]error, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		wg.Go(func() {
			env := fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"s","type":"t","datacontenttype":"application/json","data":{"case":%q}}`, i, c)
			errs[i] = ps.handlers["orders"](context.Background(), &pubsub.Message{Topic: "orders", Data: []byte(env)})
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the batch was not settled")
	}
	return errs
}

func startBulkBinding(t *testing.T, client *http.Client, url, dlq string, retry delivery.RetryPolicy) (*Binding, *fakePubSub) {
	t.Helper()
	ps := &fakePubSub{}
	b, err := New(Config{
		Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders", DeadLetterTopic: dlq,
			Routes: resources.Routes{Default: "/bulk"}, BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 4, MaxAwaitDurationMs: 2000}}},
		PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{"/bulk": url}, Transport: client.Transport,
		Retry: retry, App: &App{ID: "sub"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Stop(context.Background()) })
	return b, ps
}

var twoRetries = delivery.RetryPolicy{MaxRetries: 2, Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, Multiplier: 1}

func TestAppBulkRetriesOnlyFailedEntries(t *testing.T) {
	synctest.Test(t, testAppBulkRetriesOnlyFailedEntries)
}

func testAppBulkRetriesOnlyFailedEntries(t *testing.T) {
	var log bulkCallLog
	client, url := bulkRetryApp(t, &log, 0)
	b, ps := startBulkBinding(t, client, url, "dlq", twoRetries)
	began := time.Now()
	for i, err := range publishBulk(t, ps, []string{"success", "flaky", "retry", "missing"}) {
		if err != nil {
			t.Errorf("message %d handed back to the broker: %v", i, err)
		}
	}
	// A full batch leaves at once; two retries wait 10ms each.
	if took, want := time.Since(began), 2*twoRetries.Initial; took != want {
		t.Errorf("settled after %v, want %v", took, want)
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	var got []string
	for _, c := range log.calls {
		got = append(got, strings.Join(c.cases, ","))
	}
	want := []string{"flaky,missing,retry,success", "flaky,missing,retry", "missing,retry"}
	if !slices.Equal(got, want) {
		t.Fatalf("calls %q, want %q (the first, then only the entries to retry, twice)", got, want)
	}
	first := log.calls[0]
	for _, c := range log.calls[1:] {
		if c.id != first.id {
			t.Errorf("envelope id %s on a retry, want the first call's %s", c.id, first.id)
		}
		for k, id := range c.entries {
			if id != first.entries[k] {
				t.Errorf("%s: entryId %s on a retry, want %s", k, id, first.entries[k])
			}
		}
	}
	if n := len(ps.publishedOn("dlq")); n != 2 {
		t.Errorf("dead-lettered %d, want 2 (retry, missing)", n)
	}
	if c := b.Status()[0].Counts; c.Delivered != 2 || c.DeadLettered != 2 || c.Retries != 5 {
		t.Errorf("counts %+v, want 2 delivered, 2 dead-lettered, 5 entry retries", c)
	}
}

func TestAppBulkRetriesFailedCall(t *testing.T) {
	// Two messages leave as a batch after MaxAwaitDurationMs (2s); a retry
	// waits 10ms.
	const await = 2 * time.Second
	tests := []struct {
		name      string
		status    int
		retry     delivery.RetryPolicy
		calls     int
		delivered int64
		returned  int // handed back to the broker
		took      time.Duration
	}{
		{"500 retried", http.StatusInternalServerError, twoRetries, 2, 2, 0, await + twoRetries.Initial},
		{"500 without a policy", http.StatusInternalServerError, delivery.RetryPolicy{Multiplier: 1}, 1, 0, 2, await},
		{"404 drops", http.StatusNotFound, twoRetries, 1, 0, 0, await},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var log bulkCallLog
				client, url := bulkRetryApp(t, &log, tt.status)
				b, ps := startBulkBinding(t, client, url, "", tt.retry)
				began := time.Now()
				errs := publishBulk(t, ps, []string{"success", "flaky"})
				if took := time.Since(began); took != tt.took {
					t.Errorf("settled after %v, want %v", took, tt.took)
				}
				log.mu.Lock()
				calls := len(log.calls)
				log.mu.Unlock()
				if calls != tt.calls {
					t.Errorf("%d calls, want %d", calls, tt.calls)
				}
				if c := b.Status()[0].Counts; c.Delivered != tt.delivered {
					t.Errorf("counts %+v, want %d delivered", c, tt.delivered)
				}
				returned := 0
				for _, err := range errs {
					if err != nil {
						returned++
					}
				}
				if returned != tt.returned {
					t.Errorf("%d handed back to the broker, want %d", returned, tt.returned)
				}
			})
		})
	}
}

func TestAppGRPCBulkRetriesOnlyFailedEntries(t *testing.T) {
	synctest.Test(t, testAppGRPCBulkRetriesOnlyFailedEntries)
}

func testAppGRPCBulkRetriesOnlyFailedEntries(t *testing.T) {
	app := &fakeBulkCallback{}
	ps := &fakePubSub{}
	b, err := New(Config{
		Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders", DeadLetterTopic: "dlq",
			BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 3, MaxAwaitDurationMs: 2000}}},
		PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{}, Retry: twoRetries, App: &App{ID: "sub", GRPC: app},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	began := time.Now()
	var wg sync.WaitGroup
	for i, c := range []string{"SUCCESS", "RETRY", "missing"} {
		wg.Go(func() {
			env := fmt.Sprintf(`{"specversion":"1.0","id":"e%d","source":"s","type":"t","datacontenttype":"application/json","data":%q}`, i, c)
			if err := ps.handlers["orders"](context.Background(), &pubsub.Message{Topic: "orders", Data: []byte(env)}); err != nil {
				t.Errorf("%s: %v", c, err)
			}
		})
	}
	wg.Wait()
	if took, want := time.Since(began), 2*twoRetries.Initial; took != want {
		t.Errorf("settled after %v, want %v (a full batch at once, two retries 10ms apart)", took, want)
	}
	app.mu.Lock()
	defer app.mu.Unlock()
	var sizes []int
	ids := map[string]string{} // data -> entry id
	for _, req := range app.got {
		sizes = append(sizes, len(req.GetEntries()))
		if req.GetId() != app.got[0].GetId() {
			t.Errorf("request id %s on a retry, want %s", req.GetId(), app.got[0].GetId())
		}
		for _, e := range req.GetEntries() {
			d := string(e.GetCloudEvent().GetData())
			if prev, ok := ids[d]; ok && prev != e.GetEntryId() {
				t.Errorf("%s: entry id %s on a retry, want %s", d, e.GetEntryId(), prev)
			}
			ids[d] = e.GetEntryId()
		}
	}
	if !slices.Equal(sizes, []int{3, 2, 2}) {
		t.Errorf("entries per call %v, want [3 2 2]: the failed entries only, retried twice", sizes)
	}
	if c := b.Status()[0].Counts; c.Delivered != 1 || c.DeadLettered != 2 {
		t.Errorf("counts %+v, want 1 delivered, 2 dead-lettered", c)
	}
}
