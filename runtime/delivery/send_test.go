package delivery_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"

	"github.com/funcd/funcd/runtime/delivery"
)

// target is one function's URL.
type target string

func (u target) Acquire(context.Context, string) (string, func(bool), error) {
	return string(u), func(bool) {}, nil
}

func order(t *testing.T) *event.Event {
	t.Helper()
	ev := event.New()
	ev.SetID("order-1")
	ev.SetSource("orderpubsub")
	ev.SetType("com.dapr.event.sent")
	if err := ev.SetData(event.ApplicationJSON, map[string]any{"orderId": 1}); err != nil {
		t.Fatal(err)
	}
	return &ev
}

// TestDeliverDoesNotFollowRedirects: a function's 3xx is its answer, as
// daprd's app channel takes it: the event is not posted (or fetched) where
// it points, and the delivery is tried again, then given up.
func TestDeliverDoesNotFollowRedirects(t *testing.T) {
	for _, status := range []int{http.StatusMovedPermanently, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			var elsewhere, posts atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) })
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				posts.Add(1)
				http.Redirect(w, r, "/elsewhere", status)
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			pol := delivery.Policy{Timeout: 5 * time.Second, Retry: delivery.RetryPolicy{MaxRetries: 1, Initial: time.Millisecond, Max: time.Millisecond, Multiplier: 1}}
			a := delivery.NewDeliverer(target(srv.URL), nil, nil).Deliver(t.Context(), "f", order(t), pol)
			if a.Outcome != delivery.Retry || a.Status != status || a.Attempts != 2 {
				t.Errorf("got outcome %v, status %d after %d attempts; want retry, %d after 2", a.Outcome, a.Status, a.Attempts, status)
			}
			if posts.Load() != 2 || elsewhere.Load() != 0 {
				t.Errorf("function got %d posts, /elsewhere %d requests; want 2 and 0", posts.Load(), elsewhere.Load())
			}
		})
	}
}

// TestDeliverTransportError: a function that cannot be reached is a
// transport error (*url.Error, what the gateway answers 502 for), retried.
func TestDeliverTransportError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens at its address any more
	pol := delivery.Policy{Timeout: 5 * time.Second, Retry: delivery.RetryPolicy{MaxRetries: 0}}
	a := delivery.NewDeliverer(target(srv.URL), nil, nil).Deliver(t.Context(), "f", order(t), pol)
	var ue *url.Error
	if a.Outcome != delivery.Retry || a.Status != 0 || !errors.As(a.Err, &ue) || ue.Op != "Post" {
		t.Errorf("got outcome %v, status %d, error %v; want retry, no status, a Post *url.Error", a.Outcome, a.Status, a.Err)
	}
}
