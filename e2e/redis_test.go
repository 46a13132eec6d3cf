package e2e

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// TestPublishedOrdersSurviveKillOnRedis is the kill test with orderpubsub
// on Redis Streams: a real redis-server started by the test, funcd killed
// with SIGKILL mid-stream under load, started again, every published order
// processed.
func TestPublishedOrdersSurviveKillOnRedis(t *testing.T) {
	components := t.TempDir()
	addr := pubsubtest.StartRedis(t)
	writeRedisComponents(t, components, addr)
	killUnderLoad(t, components, func() {
		// What the restarted funcd must claim back: read by the killed one,
		// never acknowledged.
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		p, err := rdb.XPending(t.Context(), "orders", "order-processor-orders").Result()
		if err != nil {
			t.Fatalf("XPENDING orders: %v", err)
		}
		t.Logf("%d orders pending in the consumer group at the kill (read, never acknowledged)", p.Count)
	})
}

// writeRedisComponents writes the project's Subscription and orderpubsub on
// the redis-server at addr. The component's defaults (claiming a message
// pending 60s, every 15s) would leave a restarted funcd waiting a minute,
// so they are short here; processingTimeout must still exceed the time a
// message waits in the component's queue plus its delivery, or the
// component redelivers messages still being processed (duplicates, which
// the test reports).
func writeRedisComponents(t *testing.T, dir, addr string) {
	t.Helper()
	writeWithSubscription(t, dir, map[string]string{
		"pubsub.yaml":     redisComponentWith("orderpubsub", addr, 3*time.Second, 500*time.Millisecond),
		"resiliency.yaml": deliveryResiliency("1s", "200ms", 1), // 2.2s, inside processingTimeout
	})
}

// TestOrdersSurviveRedisRestart kills redis-server (SIGKILL) while orders
// stream through funcd and starts it again on the same data (append-only
// file, fsync always): publishes during the outage fail and are retried by
// the publishers, the component reconnects, and every accepted order is
// processed.
func TestOrdersSurviveRedisRestart(t *testing.T) {
	r := pubsubtest.StartDurableRedis(t)
	components := t.TempDir()
	writeRedisComponents(t, components, r.Addr())
	f := startFuncd(t, components, t.TempDir(), []string{"PROCESSING_DELAY=20ms"})

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	pub := newOrderPublisher(loadOrders)
	var refused atomic.Int32
	var publishers sync.WaitGroup
	for range loadPublishers {
		publishers.Go(func() {
			for id := range pub.ids {
				for pub.publish(ctx, f.gateway, id) != nil && ctx.Err() == nil {
					refused.Add(1) // the broker is down: try again, as a publisher would
					time.Sleep(100 * time.Millisecond)
				}
				time.Sleep(loadPace)
			}
		})
	}
	waitFor(t, 2*time.Minute, fmt.Sprintf("order-processor to process %d orders", killAfter), func() bool {
		return len(f.received()) >= killAfter
	})
	r.Kill()
	down := len(f.received())
	time.Sleep(time.Second)
	if err := r.Start(); err != nil {
		t.Fatalf("restart redis-server: %v", err)
	}
	publishers.Wait()
	waitFor(t, 3*time.Minute, fmt.Sprintf("all %d orders after the restart", loadOrders), func() bool {
		got := f.received()
		for id := 1; id <= loadOrders; id++ {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	if down >= loadOrders {
		t.Fatal("every order was processed before Redis went down; the test proves nothing")
	}
	dups := 0
	for _, n := range f.received() {
		dups += n - 1
	}
	t.Logf("Redis killed after %d of %d orders and restarted 1s later; %d publishes refused meanwhile and retried; all processed, %d duplicates",
		down, loadOrders, refused.Load(), dups)
}
