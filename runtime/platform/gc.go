package platform

import (
	"context"
	"runtime/debug"
	"time"
)

// The garbage collector settings funcd up runs with, unless GOGC or
// GOMEMLIMIT say otherwise (cmd/funcd applies them: a library does not
// change process-wide settings). Every event allocates in the publish API, the
// broker and the binding, while the live heap stays small (the idle
// platform's whole RSS is under 40 MB), so collecting less often buys
// throughput cheaply: on 2 cores, 16 publishers through the embedded
// broker went from about 6,700 to 7,600 events/s with GOGC 400 instead of
// 100 (go test -bench Pipeline/broker=jetstream/workers=parallel). The
// memory limit makes the collector work harder, not fail, should a burst
// grow the heap towards it.
const (
	GCPercent   = 400
	MemoryLimit = 1 << 30 // bytes
)

// trimEvery is how often trimAfterBursts looks at the traffic.
const trimEvery = 2 * time.Second

// Follow-up frees after a burst: the first after settleFirst intervals of
// quiet, each next one after twice as many, while it stays quiet, the last
// one after settleLast intervals.
const (
	settleFirst = 4
	settleLast  = 64
)

// trimAfterBursts hands the memory a burst left behind back to the system
// once the burst is over: when the requests and deliveries counted in the
// last interval (every) are none after some were, it runs free (a collection that
// returns every unused page, as debug.FreeOSMemory). With GCPercent at 400
// the heap grows to five times what is live during a burst, and the
// runtime would otherwise keep those pages until much later. While it stays
// quiet it runs free again after settleFirst intervals, then after twice
// as many each time up to settleLast (8s, 24s, 56s, 2m and 4m after the
// first with trimEvery): what the burst left to be released later goes
// back too, such as the broker's pooled block buffers (dropped after the
// second collection that finds them unused) and its duplicate-detection
// entries (kept for the stream's duplicate window, broker's
// DefaultDuplicateWindow unless a Component sets it). An idle platform
// allocates too little for the collector to run on its own. It returns
// when ctx ends.
func trimAfterBursts(ctx context.Context, every time.Duration, traffic func() int64, free func()) {
	t := time.NewTicker(every)
	defer t.Stop()
	last, busy := traffic(), false
	quiet, next := 0, 0 // intervals since the last free; the next follow-up's (0: none)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := traffic()
		switch {
		case now != last:
			next = 0
		case busy:
			free()
			quiet, next = 0, settleFirst
		case next > 0:
			if quiet++; quiet == next {
				free()
				quiet, next = 0, next*2
				if next > settleLast {
					next = 0
				}
			}
		}
		busy, last = now != last, now
	}
}

// traffic counts every request and delivery the functions got so far.
func (p *Platform) traffic() int64 {
	var n int64
	for _, st := range p.Status() {
		n += st.Requests + st.Deliveries
	}
	return n
}

// freeMemory compacts the trace store, then returns every unused page to
// the system (debug.FreeOSMemory).
func (p *Platform) freeMemory() {
	if p.tracing != nil {
		p.tracing.Store.Compact()
	}
	debug.FreeOSMemory()
}
