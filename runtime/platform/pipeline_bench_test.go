package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar/sidecartest"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// BenchmarkPipeline is the local platform's end-to-end path without the
// function processes: 16 publishers using the Dapr Go SDK against the publish
// API, a durable broker through Dapr's own component, the binding, and an
// HTTP function that acknowledges. It reports delivered events per second.
//
// broker=jetstream is the embedded default (JetStream file store): with
// workers=1 (the component's concurrency "single") it delivers one message
// at a time; workers=parallel delivers up to max at once (concurrency
// "parallel", acknowledged after delivery). broker=redis is a real
// redis-server (Redis Streams) whose component runs workers=N in parallel. max is the subscription's
// maxConcurrency; bulk delivers batches of up to workers events (a batch
// cannot hold more messages than the component hands over at once), waiting
// at most 10ms, to a function that opted in. work is how long the function
// takes per request (a real function waits on something).
func BenchmarkPipeline(b *testing.B) {
	for _, c := range []pipelineCase{
		{"jetstream", "1", "16", false, 0, ""},
		{"jetstream", "parallel", "16", false, 0, ""},
		{"redis", "1", "16", false, 0, ""},
		{"redis", "16", "16", false, 0, ""},
		{"jetstream", "1", "16", false, time.Millisecond, ""},
		{"jetstream", "parallel", "16", false, time.Millisecond, ""},
		{"redis", "1", "16", false, time.Millisecond, ""},
		{"redis", "16", "1", false, time.Millisecond, ""},
		{"redis", "16", "16", false, time.Millisecond, ""},
		{"redis", "16", "16", true, time.Millisecond, ""},
	} {
		name := fmt.Sprintf("broker=%s/workers=%s/max=%s/work=%v", c.broker, c.workers, c.max, c.work)
		if c.bulk {
			name += "/bulk"
		}
		b.Run(name, func(b *testing.B) { benchPipeline(b, c) })
	}
}

// BenchmarkFsync is BenchmarkPipeline on the embedded default (JetStream
// parallel, maxConcurrency 16, a function that answers at once) with each
// of the broker's fsync policies side by side: every write on disk before
// the publish is acknowledged, or the store flushed every second, or every
// two minutes (NATS's default).
func BenchmarkFsync(b *testing.B) {
	for _, sync := range []string{"always", "1s", "2m"} {
		b.Run("fsync="+sync, func(b *testing.B) {
			benchPipeline(b, pipelineCase{broker: "jetstream", workers: "parallel", max: "16", sync: sync})
		})
	}
}

type pipelineCase struct {
	broker, workers, max string
	bulk                 bool
	work                 time.Duration
	sync                 string // the embedded broker's fsync policy; "" the default
}

// openBroker opens the orderpubsub component on a fresh broker.
func openBroker(b *testing.B, kind, workers, sync string) *embedded.PubSub {
	comp := resources.Component{Name: "orderpubsub", Version: "v1"}
	var opts embedded.Options
	switch kind {
	case "jetstream":
		cfg := broker.Config{StoreDir: b.TempDir()}
		if sync != "" {
			var err error
			if cfg.Sync, err = broker.ParseSync(sync); err != nil {
				b.Fatal(err)
			}
		}
		brk, err := broker.Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { brk.Close() })
		comp.Type, comp.Metadata, opts.Broker = "pubsub.jetstream", map[string]string{"ackWait": "30s"}, brk
		if workers == "parallel" {
			comp.Metadata["concurrency"] = "parallel"
		}
	case "redis":
		comp.Type = "pubsub.redis"
		comp.Metadata = map[string]string{"redisHost": pubsubtest.StartRedis(b), "concurrency": workers}
	}
	ps, err := embedded.Open(b.Context(), comp, opts)
	if err != nil {
		b.Fatal(err)
	}
	return ps
}

func benchPipeline(b *testing.B, c pipelineCase) {
	const publishers = 16
	gcAsFuncdUp(b)
	ctx := b.Context()
	ps := openBroker(b, c.broker, c.workers, c.sync)
	workers := 1 // bulk batches hold at most what the component hands over at once
	if c.workers != "parallel" {
		n, err := strconv.Atoi(c.workers)
		if err != nil {
			b.Fatal(err)
		}
		workers = n
	}
	reg := pubsub.NewRegistry()
	if err := reg.Add("orderpubsub", "pubsub."+c.broker, ps); err != nil {
		b.Fatal(err)
	}
	defer reg.Close()

	var delivered atomic.Int64
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(c.work)
		if r.Header.Get("Content-Type") != "application/cloudevents-batch+json" {
			delivered.Add(1)
			return
		}
		var batch []json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
			w.WriteHeader(http.StatusBadRequest)
		}
		delivered.Add(int64(len(batch)))
	}))
	defer fn.Close()
	sub := resources.Subscription{Name: "bench", PubsubName: "orderpubsub", Topic: "orders",
		Routes: resources.Routes{Default: "/fn"}, Metadata: map[string]string{subscriptions.MetaMaxConcurrency: c.max},
		BulkSubscribe: resources.BulkSubscribe{Enabled: c.bulk, MaxMessagesCount: int32(workers), MaxAwaitDurationMs: 10}}
	bd, err := subscriptions.New(subscriptions.Config{Subscriptions: []resources.Subscription{sub}, PubSubs: reg, Target: fixed(fn.URL),
		Batch: func(string) bool { return c.bulk }})
	if err != nil {
		b.Fatal(err)
	}
	if err := bd.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer bd.Stop(context.Background())

	client := sidecartest.Client(b, "checkout", reg)
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

// gcAsFuncdUp runs b with the collector settings funcd up applies.
func gcAsFuncdUp(b *testing.B) {
	percent, limit := debug.SetGCPercent(GCPercent), debug.SetMemoryLimit(MemoryLimit)
	b.Cleanup(func() { debug.SetGCPercent(percent); debug.SetMemoryLimit(limit) })
}
