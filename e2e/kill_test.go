package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestPublishedOrdersSurviveKillUnderLoad is TestAcceptedOrdersSurviveKill
// under load: orders arrive through the publish API from several publishers
// while order-processor works through them, and funcd is killed mid-stream.
func TestPublishedOrdersSurviveKillUnderLoad(t *testing.T) {
	components := t.TempDir()
	writeComponents(t, components) // the embedded JetStream broker, ackWait 5s
	killUnderLoad(t, components, nil)
}

// Load for killUnderLoad.
const (
	loadOrders     = 200
	loadPublishers = 8
	// loadPace spaces each publisher's requests, so publishing is still
	// going on when funcd is killed (8 publishers: at most ~300 orders/s).
	loadPace = 50 * time.Millisecond
	// killAfter is how many processed orders funcd is killed after.
	killAfter = 10
)

// killUnderLoad publishes loadOrders orders through the gateway's publish
// API (/v1.0/publish/orderpubsub/orders) from loadPublishers publishers,
// kills funcd with SIGKILL once order-processor logged killAfter of them,
// starts it again on the same resources and broker data, publishes the
// orders that were not accepted before the kill, and checks that every
// accepted order is processed. Redelivered duplicates are reported.
// afterKill, if set, runs while funcd is down.
func killUnderLoad(t *testing.T, components string, afterKill func()) {
	data := t.TempDir()
	f := startFuncd(t, components, data, []string{"PROCESSING_DELAY=50ms"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	pub, published := publishUnderLoad(ctx, t, f)
	pids := f.functionPIDs()
	f.kill(syscall.SIGKILL)
	before := f.received()
	published()
	waitFor(t, 30*time.Second, "function processes to die with funcd", func() bool {
		return !slices.ContainsFunc(pids, func(pid int) bool { return !processGone(pid) })
	})
	accepted := pub.acceptedIDs()
	if len(accepted) == loadOrders && !slices.ContainsFunc(accepted, func(id int) bool { return before[id] == 0 }) {
		t.Fatalf("all %d orders were published and processed before the kill; the test proves nothing", loadOrders)
	}
	t.Logf("killed funcd with %d orders accepted by the publish API (%d in flight, outcome unknown), %d processed",
		len(accepted), len(pub.unknownIDs()), len(before))
	if afterKill != nil {
		afterKill()
	}

	g := startFuncd(t, components, data, nil)
	pub.rest(ctx, t, g.gateway)
	accepted = pub.acceptedIDs()
	waitFor(t, 3*time.Minute, fmt.Sprintf("all %d accepted orders after the restart", len(accepted)), func() bool {
		after := g.received()
		return !slices.ContainsFunc(accepted, func(id int) bool { return before[id]+after[id] == 0 })
	})
	dups, after := 0, g.received()
	for id := 1; id <= loadOrders; id++ {
		dups += max(before[id]+after[id]-1, 0)
	}
	t.Logf("all %d published orders processed across the kill; %d redelivered duplicates (at-least-once)",
		len(accepted), dups)
	g.kill(syscall.SIGTERM)
}

// publishUnderLoad starts loadPublishers publishers of loadOrders orders
// against f's publish API, each stopping at its first failure, and returns
// once order-processor logged killAfter of them; wait waits for the
// publishers.
func publishUnderLoad(ctx context.Context, t *testing.T, f *funcd) (pub *orderPublisher, wait func()) {
	t.Helper()
	pub = newOrderPublisher(loadOrders)
	var publishers sync.WaitGroup
	for range loadPublishers {
		publishers.Go(func() { pub.run(ctx, f.gateway, loadPace) })
	}
	waitFor(t, 2*time.Minute, fmt.Sprintf("order-processor to process %d orders", killAfter), func() bool {
		return len(f.received()) >= killAfter
	})
	return pub, publishers.Wait
}

// orderPublisher hands order ids 1..n to publishers and records which ones
// the publish API accepted.
type orderPublisher struct {
	ids chan int

	mu       sync.Mutex
	accepted map[int]bool
	unknown  []int // in flight when funcd died: stored or not
}

func newOrderPublisher(n int) *orderPublisher {
	p := &orderPublisher{ids: make(chan int, n), accepted: map[int]bool{}}
	for id := 1; id <= n; id++ {
		p.ids <- id
	}
	close(p.ids)
	return p
}

// run publishes ids until there are none left or a request fails, which
// happens once funcd is killed.
func (p *orderPublisher) run(ctx context.Context, gateway string, pace time.Duration) {
	for id := range p.ids {
		if err := p.publish(ctx, gateway, id); err != nil {
			p.mu.Lock()
			p.unknown = append(p.unknown, id)
			p.mu.Unlock()
			return
		}
		time.Sleep(pace)
	}
}

// rest publishes, to a restarted funcd, every id not accepted before.
func (p *orderPublisher) rest(ctx context.Context, t *testing.T, gateway string) {
	t.Helper()
	p.mu.Lock()
	todo := p.unknown
	p.unknown = nil
	p.mu.Unlock()
	for id := range p.ids {
		todo = append(todo, id)
	}
	for _, id := range todo {
		if err := p.publish(ctx, gateway, id); err != nil {
			t.Fatalf("publish order %d after the restart: %v", id, err)
		}
	}
}

// publish sends order id to the publish API; any answer but 204 is an error.
func (p *orderPublisher) publish(ctx context.Context, gateway string, id int) error {
	body := fmt.Sprintf(`{"orderId":%d,"customerName":"Load %d","amount":%d.0,"status":"Pending"}`, id, id, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gateway+"/v1.0/publish/orderpubsub/orders", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("publish order %d: got %s, want 204", id, resp.Status)
	}
	p.mu.Lock()
	p.accepted[id] = true
	p.mu.Unlock()
	return nil
}

func (p *orderPublisher) acceptedIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]int, 0, len(p.accepted))
	for id := range p.accepted {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (p *orderPublisher) unknownIDs() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.unknown)
}

// TestOrdersSurviveFunctionKill kills order-processor's process with
// SIGKILL while orders stream through it: deliveries in flight fail, the
// runner restarts the process, the binding retries, and every published
// order is processed.
func TestOrdersSurviveFunctionKill(t *testing.T) {
	// The project's resources as shipped: funcd is not killed, so the ack
	// wait does not matter, and the default retries (about 3 s of backoff)
	// span the restart.
	f := startFuncd(t, "../components", t.TempDir(), []string{"PROCESSING_DELAY=50ms"})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	pub, published := publishUnderLoad(ctx, t, f)
	pid := readyPID(t, f, "order-processor")
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill order-processor (pid %d): %v", pid, err)
	}
	killedAt := len(f.received())
	published()
	if unknown := pub.unknownIDs(); len(unknown) > 0 {
		t.Fatalf("funcd kept running, yet publishing orders %v failed", unknown)
	}
	waitFor(t, 3*time.Minute, fmt.Sprintf("all %d orders", loadOrders), func() bool {
		got := f.received()
		for id := 1; id <= loadOrders; id++ {
			if got[id] == 0 {
				return false
			}
		}
		return true
	})
	if killedAt >= loadOrders {
		t.Fatal("every order was processed before the kill; the test proves nothing")
	}
	if !strings.Contains(f.output(), "function exited, restarting") {
		t.Errorf("no restart of the killed process in funcd's log:\n%s", f.output())
	}
	dups := 0
	for _, n := range f.received() {
		dups += n - 1
	}
	t.Logf("killed order-processor (pid %d) after %d of %d orders; all processed, %d duplicates (at-least-once)",
		pid, killedAt, loadOrders, dups)
}

// readyPID returns the pid funcd last reported ready for function name.
func readyPID(t *testing.T, f *funcd, name string) int {
	t.Helper()
	re := regexp.MustCompile(`function ready" function=` + regexp.QuoteMeta(name) + ` .* pid=(\d+)`)
	m := re.FindAllStringSubmatch(f.output(), -1)
	if m == nil {
		t.Fatalf("funcd never reported %s ready:\n%s", name, f.output())
	}
	pid, _ := strconv.Atoi(m[len(m)-1][1])
	return pid
}
