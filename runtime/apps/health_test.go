package apps

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/sidecar"
)

// countingPubSub counts subscriptions; it delivers nothing.
type countingPubSub struct {
	mu         sync.Mutex
	subscribes int
}

func (c *countingPubSub) Publish(context.Context, *pubsub.Message) error { return nil }
func (c *countingPubSub) Close() error                                   { return nil }
func (c *countingPubSub) Subscribe(context.Context, pubsub.Subscription, pubsub.Handler) error {
	c.mu.Lock()
	c.subscribes++
	c.mu.Unlock()
	return nil
}
func (c *countingPubSub) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.subscribes }

type onePubSub struct{ ps pubsub.PubSub }

func (o onePubSub) Get(name string) (pubsub.PubSub, bool) { return o.ps, name == "orderpubsub" }

type noComponents struct{}

func (noComponents) PubSub(string) (pubsub.Publisher, bool) { return nil, false }

func TestHealthChecksPauseSubscriptions(t *testing.T) {
	var healthy atomic.Bool
	healthy.Store(true)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/dapr/subscribe":
			_, _ = w.Write([]byte(`[{"pubsubname":"orderpubsub","topic":"orders","route":"/orders"}]`))
		case "/healthz":
			if !healthy.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		}
	}))
	defer app.Close()
	port := app.Listener.Addr().(*net.TCPAddr).Port
	ps := &countingPubSub{}
	apps, err := Start(context.Background(), Config{
		Template: &multiapp.Template{Apps: []multiapp.App{{ID: "a", Port: port, Protocol: multiapp.ProtocolHTTP, HealthCheckPath: "/healthz",
			HealthCheck: &multiapp.HealthCheck{Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond, Threshold: 2}}}},
		Components:       func(string) sidecar.Components { return noComponents{} },
		SubscribeAllowed: func(string, string, string) error { return nil },
		PubSubs:          onePubSub{ps},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer apps.Stop(context.Background())
	subscribed := func() bool {
		apps.apps[0].bindingMu.Lock()
		defer apps.apps[0].bindingMu.Unlock()
		return apps.apps[0].binding != nil
	}
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting until %s", what)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitUntil("subscribed", subscribed)
	healthy.Store(false)
	waitUntil("the subscription stops while the app is unhealthy", func() bool { return !subscribed() })
	healthy.Store(true)
	waitUntil("the subscription starts again", subscribed)
	if n := ps.count(); n != 2 {
		t.Errorf("subscribed %d times, want 2 (at start, once healthy again)", n)
	}
	if subs := apps.Status()[0].Subscriptions; len(subs) != 1 || subs[0].Topic != "orders" {
		t.Errorf("status %+v, want the orders subscription", subs)
	}
}
