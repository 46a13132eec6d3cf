package platform

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/funcd/funcd/runtime/binding"
	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// BenchmarkPipeline is the local platform's end-to-end path without the
// function processes: 16 publishers using the Dapr Go SDK against the publish
// API, the embedded durable broker (JetStream file store) through Dapr's
// pubsub.jetstream component, the binding, and an HTTP function that
// acknowledges. It reports delivered events per second.
func BenchmarkPipeline(b *testing.B) {
	for _, conc := range []string{"single", "parallel"} {
		b.Run("concurrency="+conc, func(b *testing.B) { benchPipeline(b, conc) })
	}
}

func benchPipeline(b *testing.B, concurrency string) {
	const publishers = 16
	ctx := b.Context()
	brk, err := broker.Start(broker.Config{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer brk.Close()
	comp := resources.Component{Name: "orderpubsub", Type: "pubsub.jetstream", Version: "v1",
		Metadata: map[string]string{"concurrency": concurrency, "ackWait": "30s"}}
	ps, err := embedded.Open(ctx, comp, embedded.Options{Broker: brk})
	if err != nil {
		b.Fatal(err)
	}
	reg := pubsub.NewRegistry()
	if err := reg.Add("orderpubsub", comp.Type, ps); err != nil {
		b.Fatal(err)
	}
	defer reg.Close()

	var delivered atomic.Int64
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { delivered.Add(1) }))
	defer fn.Close()
	sub := resources.Subscription{Name: "bench", PubsubName: "orderpubsub", Topic: "orders",
		Routes: resources.Routes{Default: "/fn"}}
	bd, err := binding.New(binding.Config{Subscriptions: []resources.Subscription{sub}, PubSubs: reg, Target: fixed(fn.URL)})
	if err != nil {
		b.Fatal(err)
	}
	if err := bd.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer bd.Stop(context.Background())

	client := publishAPI(b, reg)
	b.ResetTimer()
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range publishers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
				order := fmt.Appendf(nil, `{"orderId":%d,"customerName":"Customer","amount":1.0,"status":"Pending"}`, i)
				if err := client.PublishEvent(ctx, "orderpubsub", "orders", order, dapr.PublishEventWithContentType("application/json")); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for delivered.Load() < int64(b.N) {
		if time.Since(began) > 2*time.Minute {
			b.Fatalf("delivered %d of %d", delivered.Load(), b.N)
		}
		time.Sleep(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "events/s")
}

type fixed string

func (f fixed) Acquire(context.Context, string) (string, func(bool), error) {
	return string(f), func(bool) {}, nil
}

// publishAPI serves the Dapr publish API on loopback and returns an SDK
// client connected to it, as a function gets.
func publishAPI(b *testing.B, reg *pubsub.Registry) dapr.Client {
	sc, err := sidecar.New("checkout", sidecarComponents{reg})
	if err != nil {
		b.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, l, nil) }()
	b.Cleanup(func() { cancel(); <-done })
	client, err := dapr.NewClientWithAddressContext(ctx, l.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(client.Close)
	return client
}
