package subscriptions

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/resources"
)

// busy is a function that takes a while and records the most deliveries it
// had in flight at once.
func busy(t *testing.T, d time.Duration) (url string, peak *atomic.Int32) {
	t.Helper()
	var now atomic.Int32
	peak = &atomic.Int32{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := now.Add(1)
		defer now.Add(-1)
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(d)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, peak
}

// parallel calls the subscription's handler n times at once, as a component
// with parallel delivery does, and returns the errors.
func parallel(t *testing.T, ps *fakePubSub, n int) []error {
	t.Helper()
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			data := []byte(strings.Replace(string(envelope(t, "application/json", []byte(order))), `"id-1"`, fmt.Sprintf(`"id-%d"`, i), 1))
			errs[i] = deliver(t, ps, data)
		})
	}
	wg.Wait()
	return errs
}

func TestConcurrencyLimit(t *testing.T) {
	tests := []struct {
		name     string
		meta     map[string]string
		wantPeak int32
	}{
		{"default", nil, DefaultMaxConcurrency},
		{"maxConcurrency", map[string]string{MetaMaxConcurrency: "4"}, 4},
		{"ordered: one in flight", map[string]string{MetaOrdered: "true"}, 1},
		{"ordered false", map[string]string{MetaOrdered: "false", MetaMaxConcurrency: "3"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url, peak := busy(t, 50*time.Millisecond)
			_, ps := setup(t, url, resources.Subscription{Metadata: tt.meta})
			for i, err := range parallel(t, ps, 2*DefaultMaxConcurrency) {
				if err != nil {
					t.Fatalf("delivery %d = %v, want nil", i, err)
				}
			}
			// The limit must hold; reaching it depends on the scheduler.
			if got := peak.Load(); got > tt.wantPeak || got < (tt.wantPeak+1)/2 {
				t.Errorf("peak in flight = %d, want at most %d (and near it)", got, tt.wantPeak)
			}
		})
	}
}

func TestConcurrencySettingsErrors(t *testing.T) {
	tests := []struct {
		name    string
		meta    map[string]string
		bulk    bool
		wantErr string
	}{
		{"zero", map[string]string{MetaMaxConcurrency: "0"}, false, "spec.metadata.maxConcurrency"},
		{"not a number", map[string]string{MetaMaxConcurrency: "many"}, false, "spec.metadata.maxConcurrency"},
		{"ordered not a boolean", map[string]string{MetaOrdered: "maybe"}, false, "spec.metadata.ordered"},
		{"ordered with a limit above one", map[string]string{MetaOrdered: "true", MetaMaxConcurrency: "4"}, false, "contradicts"},
		{"ordered with bulk", map[string]string{MetaOrdered: "true"}, true, "cannot be combined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := resources.Subscription{Name: "s", PubsubName: "orderpubsub", Topic: "orders", File: "s.yaml",
				Routes: resources.Routes{Default: "/f"}, Metadata: tt.meta, BulkSubscribe: resources.BulkSubscribe{Enabled: tt.bulk}}
			_, err := New(Config{Subscriptions: []resources.Subscription{sub}, PubSubs: registry{"orderpubsub": &fakePubSub{}}, Target: staticTarget{}})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "s.yaml") {
				t.Errorf("New = %v, want an error naming s.yaml and %q", err, tt.wantErr)
			}
		})
	}
}
