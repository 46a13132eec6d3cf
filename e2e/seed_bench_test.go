package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/platform"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar/sidecartest"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// BenchmarkSeedComparison is a microbenchmark: funcd's pieces run inside
// the test binary, with a bare Go subscriber in place of the function (make
// bench measures the product as shipped). It measures, side by side in one
// run, the original
// architecture (a publisher's daprd -> Redis 7 Streams -> the subscriber's
// daprd -> a Go subscriber) and funcd's embedded default (the publish API ->
// embedded JetStream -> the binding -> the same Go subscriber as a function).
// Publishers use the Dapr Go SDK in both. It reports serial publish latency,
// saturated end-to-end throughput with 16 publishers, and end-to-end p99 at
// 1,000 events/s. Run it with -benchtime 1x.
func BenchmarkSeedComparison(b *testing.B) {
	b.Run("seed=daprd+redis", func(b *testing.B) { runSeedScenario(b, startSeed(b)) })
	b.Run("funcd=embedded", func(b *testing.B) { runSeedScenario(b, startEmbedded(b, "parallel")) })
	b.Run("funcd=embedded-single", func(b *testing.B) { runSeedScenario(b, startEmbedded(b, "single")) })
}

// system is one publish path with the shared subscriber behind it.
type system struct {
	client dapr.Client
	sub    *latencySub
}

func runSeedScenario(b *testing.B, s system) {
	ctx := b.Context()
	for b.Loop() {
		serial := measureSerial(b, ctx, s, 500)
		b.ReportMetric(ms(serial[len(serial)/2]), "serial-p50-ms")
		b.ReportMetric(ms(serial[len(serial)*99/100]), "serial-p99-ms")
		b.ReportMetric(measureSaturated(b, ctx, s, 16, 10000), "saturated-events/s")
		lat := measureRate(b, ctx, s, 1000, 5*time.Second)
		b.ReportMetric(ms(lat[len(lat)/2]), "1k/s-e2e-p50-ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), "1k/s-e2e-p99-ms")
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// latencySub is the subscriber: it answers daprd's /dapr/subscribe, accepts
// structured (daprd) and binary (funcd) CloudEvents, and records each
// event's end-to-end latency from the send time carried in its data.
type latencySub struct {
	url  string
	got  atomic.Int64
	mu   sync.Mutex
	lats []time.Duration
}

type benchOrder struct {
	OrderID int   `json:"orderId"`
	SentAt  int64 `json:"sentAt"`
}

func startLatencySub(b *testing.B) *latencySub {
	s := &latencySub{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /dapr/subscribe", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `[{"pubsubname":"orderpubsub","topic":"orders","route":"/orders"}]`)
	})
	mux.HandleFunc("GET /health/readiness", func(http.ResponseWriter, *http.Request) {}) // daprd's app health check
	mux.HandleFunc("POST /", s.receive)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(l) //nolint:errcheck // ends with Close
	b.Cleanup(func() { srv.Close() })
	s.url = "http://" + l.Addr().String()
	return s
}

func (s *latencySub) receive(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var o benchOrder
	if r.Header.Get("Content-Type") == "application/cloudevents+json" {
		var env struct {
			Data json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(body, &env)
		body = env.Data
	}
	if err := json.Unmarshal(body, &o); err == nil && o.SentAt > 0 {
		s.mu.Lock()
		s.lats = append(s.lats, time.Since(time.Unix(0, o.SentAt)))
		s.mu.Unlock()
	}
	s.got.Add(1)
}

// reset forgets what was received so far.
func (s *latencySub) reset() {
	s.mu.Lock()
	s.lats = s.lats[:0]
	s.mu.Unlock()
	s.got.Store(0)
}

func (s *latencySub) waitFor(b *testing.B, n int64) {
	deadline := time.Now().Add(3 * time.Minute)
	for s.got.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("subscriber got %d of %d events", s.got.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func publish(ctx context.Context, c dapr.Client, id int) error {
	data := fmt.Appendf(nil, `{"orderId":%d,"sentAt":%d}`, id, time.Now().UnixNano())
	return c.PublishEvent(ctx, "orderpubsub", "orders", data, dapr.PublishEventWithContentType("application/json"))
}

// measureSerial times n publishes one after the other.
func measureSerial(b *testing.B, ctx context.Context, s system, n int) []time.Duration {
	s.sub.reset()
	took := make([]time.Duration, 0, n)
	for i := range n {
		began := time.Now()
		if err := publish(ctx, s.client, i); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(began))
	}
	s.sub.waitFor(b, int64(n))
	slices.Sort(took)
	return took
}

// measureSaturated publishes n events from p publishers and returns the
// end-to-end rate: events received per second from the first publish.
func measureSaturated(b *testing.B, ctx context.Context, s system, p, n int) float64 {
	s.sub.reset()
	began := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := publish(ctx, s.client, int(i)); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	s.sub.waitFor(b, int64(n))
	return float64(n) / time.Since(began).Seconds()
}

// measureRate publishes at a fixed rate for d and returns the sorted
// end-to-end latencies.
func measureRate(b *testing.B, ctx context.Context, s system, perSecond int, d time.Duration) []time.Duration {
	s.sub.reset()
	n := int(d.Seconds()) * perSecond
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	for i := range n {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := publish(ctx, s.client, i); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
	s.sub.waitFor(b, int64(n))
	s.sub.mu.Lock()
	defer s.sub.mu.Unlock()
	lats := slices.Clone(s.sub.lats)
	slices.Sort(lats)
	return lats
}

// startSeed runs the original architecture: Redis 7, a daprd for the
// publisher (no app) and a daprd delivering to the subscriber.
func startSeed(b *testing.B) system {
	redisAddr := pubsubtest.StartRedis(b)
	res := writeResources(b, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", redisAddr)})
	sub := startLatencySub(b)
	_, port, _ := net.SplitHostPort(sub.url[len("http://"):])
	appPort, _ := strconv.Atoi(port)
	startDaprd(b, daprdOptions{appID: "order-processor", resources: res, appPort: appPort})
	pub := startDaprd(b, daprdOptions{appID: "checkout", resources: res})
	client, err := dapr.NewClientWithAddressContext(b.Context(), pub.grpcAddr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(client.Close)
	warmUp(b, system{client, sub})
	return system{client, sub}
}

// startEmbedded runs funcd's local path in-process, as funcd up does, with
// the component's concurrency "parallel" (as components/pubsub.yaml ships)
// or "single" (Dapr's default: one delivery at a time, in order).
func startEmbedded(b *testing.B, concurrency string) system {
	ctx := b.Context()
	gcAsFuncdUp(b)
	brk, err := broker.Start(broker.Config{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { brk.Close() })
	comp := resources.Component{Name: "orderpubsub", Type: "pubsub.jetstream", Version: "v1",
		Metadata: map[string]string{"concurrency": concurrency}}
	ps, err := embedded.Open(ctx, comp, embedded.Options{Broker: brk})
	if err != nil {
		b.Fatal(err)
	}
	reg := pubsub.NewRegistry()
	if err := reg.Add(comp.Name, comp.Type, ps); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { reg.Close() })
	sub := startLatencySub(b)
	s := resources.Subscription{Name: "order-processor-orders", PubsubName: "orderpubsub", Topic: "orders",
		Routes: resources.Routes{Default: "/order-processor"}}
	bd, err := subscriptions.New(subscriptions.Config{Subscriptions: []resources.Subscription{s}, PubSubs: reg, Target: fixedTarget(sub.url)})
	if err != nil {
		b.Fatal(err)
	}
	if err := bd.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bd.Stop(context.Background()) })
	client := sidecartest.Client(b, "checkout", reg)
	warmUp(b, system{client, sub})
	return system{client, sub}
}

type fixedTarget string

func (f fixedTarget) Acquire(context.Context, string) (string, func(bool), error) {
	return string(f), func(bool) {}, nil
}

// warmUp sends a few events end to end so connections and consumers exist.
func warmUp(b *testing.B, s system) {
	deadline := time.Now().Add(time.Minute)
	for s.sub.got.Load() == 0 {
		if time.Now().After(deadline) {
			b.Fatal("no event reached the subscriber within a minute")
		}
		if err := publish(b.Context(), s.client, 0); err != nil {
			b.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gcAsFuncdUp runs b with the collector settings funcd up applies.
func gcAsFuncdUp(b *testing.B) {
	percent, limit := debug.SetGCPercent(platform.GCPercent), debug.SetMemoryLimit(platform.MemoryLimit)
	b.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
}
