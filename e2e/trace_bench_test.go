package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkTracingCost measures the product as users run it (funcd up with
// the real functions) with tracing off (OTEL_SDK_DISABLED), sampled at 10 %
// and at 100 %: 16 publishers send orders to the publish API, and the rate
// is orders logged by order-processor per second, side by side in one run.
//
//	go test -run '^$' -bench TracingCost -benchtime 1x ./e2e
func BenchmarkTracingCost(b *testing.B) {
	const orders = 8000
	for _, c := range []struct{ name, env string }{
		{"off", "OTEL_SDK_DISABLED=true"},
		{"sampled=10%", "OTEL_TRACES_SAMPLER=parentbased_traceidratio"},
		{"sampled=100%", "OTEL_TRACES_SAMPLER=parentbased_always_on"},
	} {
		b.Run(c.name, func(b *testing.B) {
			components := b.TempDir()
			writeComponents(b, components)
			f := startFuncd(b, components, b.TempDir(), []string{c.env, "OTEL_TRACES_SAMPLER_ARG=0.1"})
			for i := range b.N {
				start := time.Now()
				publishOrders(b, f, i*orders+1, orders)
				waitFor(b, 5*time.Minute, "every order processed", func() bool { return len(f.received()) >= (i+1)*orders })
				b.ReportMetric(float64(orders)/time.Since(start).Seconds(), "events/s")
			}
		})
	}
}

// publishOrders publishes n orders from first on, from 16 publishers.
func publishOrders(b *testing.B, f *funcd, first, n int) {
	p := &orderPublisher{ids: make(chan int, n), accepted: map[int]bool{}}
	for id := first; id < first+n; id++ {
		p.ids <- id
	}
	close(p.ids)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range p.ids {
				if err := p.publish(context.Background(), f.gateway, id); err != nil {
					b.Error(fmt.Errorf("publish: %w", err))
					return
				}
			}
		}()
	}
	wg.Wait()
}
