//go:build bench

package e2e

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

// receiver reads the subscriber's log lines ("Subscriber received:
// orderId=N, ...") and times each order from the start of its publish.
type receiver struct {
	cur atomic.Pointer[phase]
}

// phase is one measurement: orders base+1 .. base+n.
type phase struct {
	base, n int
	sent    []atomic.Int64 // unix ns when publishing began, by order
	done    chan struct{}

	// tail, when set, is told of each order's line (-bench.tail).
	tail *tail

	mu      sync.Mutex
	seen    []bool
	arrived []time.Time // when each order's line arrived
	lats    []time.Duration
	last    time.Time
}

func newReceiver() *receiver { return &receiver{} }

const receivedPrefix = "Subscriber received: orderId="

// line takes the subscriber's order lines, and leaves the rest.
func (r *receiver) line(l string) bool {
	i := strings.Index(l, receivedPrefix)
	if i < 0 {
		return false
	}
	now := time.Now()
	rest := l[i+len(receivedPrefix):]
	if j := strings.IndexByte(rest, ','); j >= 0 {
		rest = rest[:j]
	}
	id, err := strconv.Atoi(rest)
	ph := r.cur.Load()
	if err != nil || ph == nil || id <= ph.base || id > ph.base+ph.n {
		return true
	}
	k := id - ph.base - 1
	lat := now.Sub(time.Unix(0, ph.sent[k].Load()))
	ph.mu.Lock()
	if ph.seen[k] {
		ph.mu.Unlock()
		return true
	}
	ph.seen[k] = true
	ph.arrived[k] = now
	ph.lats = append(ph.lats, lat)
	ph.last = now
	if ph.tail != nil {
		ph.tail.line(k, lat, l) // before done: the phase's tail is closed after it
	}
	if len(ph.lats) == ph.n {
		close(ph.done)
	}
	ph.mu.Unlock()
	return true
}

// begin starts a phase of n orders after base; tl, when not nil, is told
// of each order's line.
func (r *receiver) begin(base, n int, tl *tail) *phase {
	ph := &phase{base: base, n: n, tail: tl, sent: make([]atomic.Int64, n), seen: make([]bool, n),
		arrived: make([]time.Time, n), lats: make([]time.Duration, 0, n), done: make(chan struct{})}
	r.cur.Store(ph)
	return ph
}

// wait waits until every order of the phase was received.
func (ph *phase) wait(t *testing.T, timeout time.Duration) {
	select {
	case <-ph.done:
	case <-time.After(timeout):
		ph.mu.Lock()
		got := len(ph.lats)
		ph.mu.Unlock()
		t.Fatalf("received %d of %d orders within %s", got, ph.n, timeout)
	}
}

// publisher sends one order by HTTP or gRPC.
type publisher func(ctx context.Context, id int) error

// httpPublisher posts each order to a Dapr publish API URL (204 expected).
func httpPublisher(url string) publisher {
	return postPublisher(url, http.StatusNoContent, nil)
}

// postPublisher posts each order's JSON to url with the headers header
// adds, and wants status back.
func postPublisher(url string, status int, header func(h http.Header, id int)) publisher {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return func(ctx context.Context, id int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(orderJSON(id)))
		if err != nil {
			return err
		}
		if header != nil {
			header(req.Header, id)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != status {
			return fmt.Errorf("order %d to %s: %s %s", id, url, resp.Status, body)
		}
		return nil
	}
}

func grpcPublisher(c dapr.Client) publisher {
	return func(ctx context.Context, id int) error {
		return c.PublishEvent(ctx, "orderpubsub", "orders", orderJSON(id), dapr.PublishEventWithContentType("application/json"))
	}
}

func orderJSON(id int) []byte {
	return fmt.Appendf(nil, `{"orderId":%d,"customerName":"Customer %d","amount":%d.5,"status":"Pending"}`, id, id, id%1000)
}

// benchResult is one system's figures with one kind of publisher.
type benchResult struct {
	Round        int                `json:"round"`
	System       string             `json:"system"`
	Protocol     string             `json:"protocol"`
	EventsPerSec float64            `json:"eventsPerSec"`
	Saturated    percentiles        `json:"saturated"`
	AtRate       percentiles        `json:"atRate"`
	CPUPerOrder  map[string]float64 `json:"cpuMicrosPerOrder"` // by process, saturated
}

// percentiles are end-to-end latencies in milliseconds.
type percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
}

func (r benchResult) cpuLine() string {
	var parts []string
	total := 0.0
	for _, k := range slices.Sorted(maps.Keys(r.CPUPerOrder)) {
		parts = append(parts, fmt.Sprintf("%s %.0f", k, r.CPUPerOrder[k]))
		total += r.CPUPerOrder[k]
	}
	return fmt.Sprintf("%.0f µs/order (%s)", total, strings.Join(parts, ", "))
}

// warmUpOrders are sent before each measurement, saturated.
const warmUpOrders = 2000

// nextID numbers orders across phases, so a late duplicate of an earlier
// phase never counts in a later one.
var nextID int

// measureSystem warms the system up with proto's publishers, then measures
// saturated throughput (benchPublishers publishers, benchOrders orders) with
// its latencies and CPU, then latencies at benchRate orders per second.
func measureSystem(t *testing.T, s *benchSystem, proto string) benchResult {
	ctx := t.Context()
	pub := httpPublisher(s.httpURL)
	if proto == "grpc" {
		c, err := dapr.NewClientWithAddressContext(ctx, s.grpcAddr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		pub = grpcPublisher(c)
	}
	saturate(t, s, pub, warmUpOrders) // connections, consumers, function instances
	before := s.cpu(t)
	began := time.Now()
	ph := saturate(t, s, pub, *benchOrders)
	res := benchResult{Protocol: proto, EventsPerSec: float64(ph.n) / ph.last.Sub(began).Seconds(),
		Saturated: ph.percentiles(), CPUPerOrder: map[string]float64{}}
	after := s.cpu(t)
	for k, v := range after {
		res.CPUPerOrder[k] = float64((v - before[k]).Microseconds()) / float64(ph.n)
	}
	if *benchRateFor > 0 {
		res.AtRate = atRate(t, s, pub, *benchRate, *benchRateFor).percentiles()
	}
	return res
}

// saturate publishes n orders from benchPublishers publishers and waits
// until all were received.
func saturate(t *testing.T, s *benchSystem, pub publisher, n int) *phase {
	ph := s.rec.begin(nextID, n, nil)
	nextID += n
	var next atomic.Int64
	var wg sync.WaitGroup
	for range *benchPublishers {
		wg.Go(func() {
			for k := int(next.Add(1)) - 1; k < n; k = int(next.Add(1)) - 1 {
				ph.sent[k].Store(time.Now().UnixNano())
				if err := pub(t.Context(), ph.base+k+1); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	ph.wait(t, 3*time.Minute)
	return ph
}

// atRate publishes perSecond orders a second for d, each from its own
// goroutine at its tick, and waits until all were received.
func atRate(t *testing.T, s *benchSystem, pub publisher, perSecond int, d time.Duration) *phase {
	n := int(d.Seconds() * float64(perSecond))
	var tl *tail
	if *benchTail && s.gateway != "" {
		tl = newTail(s.gateway)
	}
	ph := s.rec.begin(nextID, n, tl)
	nextID += n
	tick := time.NewTicker(time.Second / time.Duration(perSecond))
	defer tick.Stop()
	var wg sync.WaitGroup
	for k := range n {
		<-tick.C
		wg.Go(func() {
			ph.sent[k].Store(time.Now().UnixNano())
			if err := pub(t.Context(), ph.base+k+1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	ph.wait(t, 3*time.Minute)
	if tl != nil {
		tl.report(t, ph)
	}
	return ph
}

func (ph *phase) percentiles() percentiles {
	ph.mu.Lock()
	lats := slices.Clone(ph.lats)
	ph.mu.Unlock()
	slices.Sort(lats)
	at := func(q float64) float64 { return ms(lats[min(len(lats)-1, int(q*float64(len(lats))))]) }
	return percentiles{P50: at(0.50), P90: at(0.90), P99: at(0.99)}
}

// cpu is the CPU time used so far by each labelled process and its
// descendants, the descendants apart (funcd's are the function processes).
func (s *benchSystem) cpu(t *testing.T) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, p := range s.procs {
		pids, err := procTree(p.pid)
		if err != nil {
			t.Fatal(err)
		}
		for _, pid := range pids {
			st, err := readProcStat(pid)
			if err != nil {
				continue // exited meanwhile
			}
			label := p.label
			if pid != p.pid {
				label = cmp.Or(p.children, p.label+"'s children")
			}
			out[label] += st.cpu
		}
	}
	return out
}
