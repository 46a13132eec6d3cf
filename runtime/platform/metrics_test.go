package platform

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions"
)

type fakeInstance struct{ url string }

func (f fakeInstance) URL() string                { return f.url }
func (f fakeInstance) Stop(context.Context) error { return nil }

// TestMetrics scrapes /metrics after one delivery through a real binding
// and activator.
func TestMetrics(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer fn.Close()
	act := activator.New(nil)
	if err := act.Add("order-processor", func(context.Context) (activator.Instance, error) { return fakeInstance{fn.URL}, nil },
		activator.Options{Idle: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := act.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer act.Stop(context.Background())

	comp := resources.Component{Name: "orderpubsub", Type: "pubsub.in-memory", Version: "v1"}
	ps, err := embedded.Open(t.Context(), comp, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reg := pubsub.NewRegistry()
	if err := reg.Add(comp.Name, comp.Type, ps); err != nil {
		t.Fatal(err)
	}
	defer reg.Close()
	sub := resources.Subscription{Name: "order-processor-orders", PubsubName: "orderpubsub", Topic: "orders",
		Routes: resources.Routes{Default: "/order-processor"}}
	b, err := subscriptions.New(subscriptions.Config{Subscriptions: []resources.Subscription{sub}, PubSubs: reg, Target: deliveries{a: act, structured: func(string) bool { return false }}})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer b.Stop(context.Background())
	ev := `{"specversion":"1.0","id":"1","source":"/t","type":"t","datacontenttype":"application/json","data":{"orderId":1}}`
	if err := ps.Publish(t.Context(), &pubsub.Message{Topic: "orders", Data: []byte(ev)}); err != nil {
		t.Fatal(err)
	}
	p := &Platform{activator: act, binding: b}
	deadline := time.Now().Add(10 * time.Second)
	for p.Subscriptions()[0].Delivered == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the event was not delivered")
		}
		time.Sleep(10 * time.Millisecond)
	}

	srv := httptest.NewServer(p.Metrics())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Uncompressed { // the client asked for gzip, as Prometheus does
		t.Error("metrics came gzipped: a loopback scrape gains nothing, and the writers stay in the heap")
	}
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`funcd_function_instances{function="order-processor"} 1`,
		`funcd_function_cold_starts_total{function="order-processor"} 1`,
		`funcd_function_calls_total{function="order-processor",kind="delivery"} 1`,
		`funcd_function_calls_total{function="order-processor",kind="request"} 0`,
		`funcd_subscription_messages_total{outcome="delivered",pubsub="orderpubsub",subscription="order-processor-orders",topic="orders"} 1`,
		`funcd_subscription_messages_total{outcome="dead_lettered",pubsub="orderpubsub",subscription="order-processor-orders",topic="orders"} 0`,
		`funcd_subscription_retries_total{pubsub="orderpubsub",subscription="order-processor-orders",topic="orders"} 0`,
		"go_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
