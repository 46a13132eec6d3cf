package subscriptions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// fakePubSub records publishes and hands the test the subscription handler.
type fakePubSub struct {
	mu        sync.Mutex
	published []*pubsub.Message
	handlers  map[string]pubsub.Handler
	failPub   error
	failOn    map[string]error // by topic
}

func (f *fakePubSub) Publish(_ context.Context, m *pubsub.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failPub != nil {
		return f.failPub
	}
	if err := f.failOn[m.Topic]; err != nil {
		return err
	}
	f.published = append(f.published, m)
	return nil
}

func (f *fakePubSub) Subscribe(_ context.Context, s pubsub.Subscription, h pubsub.Handler) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handlers == nil {
		f.handlers = map[string]pubsub.Handler{}
	}
	f.handlers[s.Topic] = h
	return nil
}

func (f *fakePubSub) Close() error { return nil }

func (f *fakePubSub) publishedOn(topic string) []*pubsub.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*pubsub.Message
	for _, m := range f.published {
		if m.Topic == topic {
			out = append(out, m)
		}
	}
	return out
}

type registry map[string]pubsub.PubSub

func (r registry) Get(name string) (pubsub.PubSub, bool) { ps, ok := r[name]; return ps, ok }

type staticTarget map[string]string

func (s staticTarget) Acquire(_ context.Context, fn string) (string, func(bool), error) {
	if u, ok := s[fn]; ok {
		return u, func(bool) {}, nil
	}
	return "", nil, errors.New("no such function")
}

// received is what the fake function saw.
type received struct {
	header http.Header
	body   string
}

// function is an httptest server answering with the given statuses in turn
// (the last one repeats).
func function(t *testing.T, reply string, statuses ...int) (*httptest.Server, *[]received) {
	t.Helper()
	h, got := functionHandler(reply, statuses...)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, got
}

// functionHandler answers as function's server does and records what it
// saw.
func functionHandler(reply string, statuses ...int) (http.Handler, *[]received) {
	var mu sync.Mutex
	var got []received
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{header: r.Header.Clone(), body: string(body)})
		mu.Unlock()
		i := min(int(n.Add(1))-1, len(statuses)-1)
		if reply != "" {
			w.Header().Set("Ce-Id", "reply-1")
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(statuses[i])
		_, _ = io.WriteString(w, reply)
	})
	return h, &got
}

var fastRetry = delivery.RetryPolicy{MaxRetries: 3, Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2, Jitter: 0.2}

// setup starts a binding for one subscription to fn at url.
func setup(t *testing.T, url string, sub resources.Subscription) (*Binding, *fakePubSub) {
	t.Helper()
	if sub.Routes.Default == "" && len(sub.Routes.Rules) == 0 {
		sub.Routes.Default = "/order-processor"
	}
	return start(t, Config{Target: staticTarget{"order-processor": url}}, sub)
}

// start starts a binding for sub (named orders-sub, on orderpubsub/orders
// unless set) with cfg completed by a fake pub/sub and fast retries.
func start(t *testing.T, cfg Config, sub resources.Subscription) (*Binding, *fakePubSub) {
	t.Helper()
	ps := &fakePubSub{}
	if sub.Name == "" {
		sub.Name, sub.PubsubName, sub.Topic, sub.File = "orders-sub", "orderpubsub", "orders", "sub.yaml"
	}
	cfg.Subscriptions = []resources.Subscription{sub}
	cfg.PubSubs = registry{"orderpubsub": ps}
	if cfg.Retry == (delivery.RetryPolicy{}) {
		cfg.Retry = fastRetry
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Second
	}
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Stop(context.Background()) })
	return b, ps
}

// envelope builds a Dapr envelope the way daprd does for a JSON publish.
func envelope(t *testing.T, contentType string, data []byte) []byte {
	t.Helper()
	env := contrib.NewCloudEventsEnvelope("id-1", "checkout", contrib.DefaultCloudEventType, "",
		"orders", "orderpubsub", contentType, data, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func deliver(t *testing.T, ps *fakePubSub, data []byte) error {
	t.Helper()
	h := ps.handlers["orders"]
	if h == nil {
		t.Fatal("binding did not subscribe to orders")
	}
	return h(t.Context(), &pubsub.Message{Topic: "orders", Data: data})
}

// mustEvent is a valid CloudEvent carrying an order.
func mustEvent(t *testing.T) event.Event {
	t.Helper()
	ev := event.New()
	ev.SetID("id-1")
	ev.SetSource("checkout")
	ev.SetType("com.example.order")
	if err := ev.SetData("application/json", []byte(order)); err != nil {
		t.Fatal(err)
	}
	return ev
}
