//go:build bench

package e2e

import (
	"cmp"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/funcd/funcd/runtime/tracing"
)

// The tail breakdown: -bench.tail has TestBench say, for funcd at
// -bench.rate, where the slowest 1% of orders spent their time, hop by hop,
// against a sample of all orders, from funcd's own traces.
var (
	benchTail     = flag.Bool("bench.tail", false, "break funcd's slowest 1% at -bench.rate down by hop, from its traces (fetches the trace of each order slower than -bench.tailover and of every 100th, while the load runs)")
	benchTailOver = flag.Duration("bench.tailover", 2*time.Millisecond, "orders slower than this have their trace fetched for -bench.tail")
)

// tailSampleEvery is how often an order's trace is fetched whatever its
// latency: the sample the slowest are set against.
const tailSampleEvery = 100

// tail collects the traces of one at-rate phase's slow and sampled orders.
// funcd keeps the most recent 512 traces only (a half second at 1,000
// orders a second), so each is fetched as soon as its order's line arrives,
// by one goroutine: a few dozen requests a second to the gateway.
type tail struct {
	gateway string
	want    chan tailOrder

	mu     sync.Mutex
	traces map[int]tracing.Trace // by order, of the phase
	missed int                   // wanted, but the queue was full or the trace gone
	done   chan struct{}
}

type tailOrder struct {
	k       int // the order's index in its phase
	traceID string
}

func newTail(gateway string) *tail {
	tl := &tail{gateway: gateway, want: make(chan tailOrder, 1024), traces: map[int]tracing.Trace{}, done: make(chan struct{})}
	go tl.fetch()
	return tl
}

// line is told of each order's line as it arrives: order k of its phase
// took lat.
func (tl *tail) line(k int, lat time.Duration, l string) {
	if lat < *benchTailOver && k%tailSampleEvery != 0 {
		return
	}
	_, id, ok := strings.Cut(l, "trace_id=")
	if id, _, _ = strings.Cut(id, " "); !ok || len(id) != 32 {
		return
	}
	select {
	case tl.want <- tailOrder{k, id}:
	default:
		tl.mu.Lock()
		tl.missed++
		tl.mu.Unlock()
	}
}

func (tl *tail) fetch() {
	defer close(tl.done)
	for o := range tl.want {
		tr, found, err := fetchTrace(tl.gateway, o.traceID)
		tl.mu.Lock()
		if err != nil || !found {
			tl.missed++
		} else {
			tl.traces[o.k] = tr
		}
		tl.mu.Unlock()
	}
}

// close stops fetching once the queue is drained.
func (tl *tail) close() {
	close(tl.want)
	<-tl.done
}

// tailHops are the parts of an order's latency, in order, from its trace
// and the load generator's two times (publish began, line arrived).
var tailHops = []string{
	"to the gateway",       // publish call began → publish span began
	"publish",              // the publish span: the broker stored the event
	"stored to delivered",  // topic wait span began → process span began
	"function call",        // the deliver span: funcd's request to order-processor
	"call to line arrived", // deliver span began → the log line reached the load generator
}

// hops splits one order's latency; ok is false when its trace lacks a hop.
func hops(tr tracing.Trace, sent, arrived time.Time) ([]time.Duration, bool) {
	var publish, wait, process, deliver *tracing.Span
	for i := range tr.Spans {
		s := &tr.Spans[i]
		switch {
		case s.Attributes["funcd.hop"] == "publish":
			publish = s
		case s.Attributes["funcd.hop"] == "topic":
			wait = s
		case s.Attributes["funcd.hop"] == "delivery" && s.Kind == "consumer":
			process = s
		case strings.HasPrefix(s.Name, "deliver "):
			deliver = s
		}
	}
	if publish == nil || wait == nil || process == nil || deliver == nil {
		return nil, false
	}
	return []time.Duration{
		publish.Start.Sub(sent), publish.Duration(), process.Start.Sub(wait.Start),
		deliver.Duration(), arrived.Sub(deliver.Start),
	}, true
}

// report logs the breakdown of ph's slowest 1% against the sample.
func (tl *tail) report(t *testing.T, ph *phase) {
	tl.close()
	type order struct {
		k   int
		lat time.Duration
	}
	ph.mu.Lock()
	orders := make([]order, 0, ph.n)
	for k := range ph.n {
		if ph.seen[k] {
			orders = append(orders, order{k, ph.arrived[k].Sub(time.Unix(0, ph.sent[k].Load()))})
		}
	}
	ph.mu.Unlock()
	slices.SortFunc(orders, func(a, b order) int { return int(a.lat - b.lat) })
	slowest := orders[len(orders)*99/100:]
	var sample []order
	for _, o := range orders {
		if o.k%tailSampleEvery == 0 {
			sample = append(sample, o)
		}
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "where funcd's orders spent their time at %d/s (medians, ms; from %d traces, %d wanted but not fetched):\n",
		*benchRate, len(tl.traces), tl.missed)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "orders\ttraced\te2e\t%s\t\n", strings.Join(tailHops, "\t"))
	for _, set := range []struct {
		name   string
		orders []order
	}{{"every 100th", sample}, {"slowest 1%", slowest}} {
		parts := make([][]float64, len(tailHops))
		var lats []float64
		for _, o := range set.orders {
			tr, ok := tl.traces[o.k]
			if !ok {
				continue
			}
			sent := time.Unix(0, ph.sent[o.k].Load())
			hs, ok := hops(tr, sent, ph.arrived[o.k])
			if !ok {
				continue
			}
			for i, h := range hs {
				parts[i] = append(parts[i], ms(h))
			}
			lats = append(lats, ms(o.lat))
		}
		fmt.Fprintf(w, "%s\t%d\t%.2f\t", set.name, len(lats), median(lats))
		for _, p := range parts {
			fmt.Fprintf(w, "%.2f\t", median(p))
		}
		fmt.Fprintln(w)
	}
	_ = w.Flush()
	windows := map[int64]int{} // the slowest, by the 100ms window their publish began in
	for _, o := range slowest {
		windows[ph.sent[o.k].Load()/int64(100*time.Millisecond)]++
	}
	type window struct {
		at    time.Duration // from the phase's first publish
		count int
	}
	first := ph.sent[0].Load() / int64(100*time.Millisecond)
	var busiest []window
	for w, c := range windows {
		busiest = append(busiest, window{time.Duration(w-first) * 100 * time.Millisecond, c})
	}
	slices.SortFunc(busiest, func(a, b window) int { return cmp.Or(b.count-a.count, cmp.Compare(a.at, b.at)) })
	top := make([]string, 0, 5)
	for _, w := range busiest[:min(5, len(busiest))] {
		top = append(top, fmt.Sprintf("%d at +%s", w.count, w.at))
	}
	fmt.Fprintf(&b, "the slowest 1%% began in %d windows of 100ms of the %s; the busiest held %s of them (time from the first publish at the rate)",
		len(windows), benchRateFor, strings.Join(top, ", "))
	t.Log(b.String())
}
