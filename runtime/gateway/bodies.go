package gateway

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"
)

// Defaults for Config.MaxBodyBytes and Config.BodyMemory.
const (
	// DefaultMaxBodyBytes bounds one request body, as daprd's default
	// --max-body-size does for its HTTP API.
	DefaultMaxBodyBytes = 4 << 20
	// DefaultBodyMemory bounds the request bodies read into memory at
	// once (structured events, batches, publishes): 16 bodies at the limit.
	DefaultBodyMemory = 64 << 20
)

// idleAfter is how long the bodies in memory must stay at zero after a
// burst before OnIdle runs.
const idleAfter = time.Second

// bodies reserves memory for the request bodies read into memory, so that
// many large requests at once get 503 rather than exhaust memory.
type bodies struct {
	limit  int64 // one body
	sem    *semaphore.Weighted
	onIdle func()

	mu    sync.Mutex
	inUse int64
	peak  int64 // since the last OnIdle
	timer *time.Timer
}

func newBodies(limit, memory int64, onIdle func()) *bodies {
	return &bodies{limit: limit, sem: semaphore.NewWeighted(memory), onIdle: onIdle}
}

// limitBody caps r's body at the limit: it answers 413 and returns false
// when the declared length is already past it; a longer body read later
// fails with *http.MaxBytesError.
func (b *bodies) limitBody(w http.ResponseWriter, r *http.Request) bool {
	if r.ContentLength > b.limit {
		writeError(w, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("request body of %d bytes is larger than the %d bytes allowed", r.ContentLength, b.limit))
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, b.limit)
	return true
}

// reserve takes memory for r's body (its length, or the limit when it is
// not declared) and returns the func that gives it back. When that much
// is not free now it answers 503 with Retry-After and returns false.
func (b *bodies) reserve(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	n := b.limit
	if r.ContentLength >= 0 && r.ContentLength < n {
		n = max(r.ContentLength, 1)
	}
	if !b.sem.TryAcquire(n) {
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "busy: too many request bodies in memory at once; retry shortly")
		return nil, false
	}
	b.add(n)
	return func() { b.add(-n); b.sem.Release(n) }, true
}

// add counts n bytes in (or, negative, out) and arms OnIdle when the
// bodies in memory drop back to zero after a burst.
func (b *bodies) add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inUse += n
	b.peak = max(b.peak, b.inUse)
	if b.inUse != 0 || b.onIdle == nil || b.peak < b.limit {
		return
	}
	if b.timer != nil {
		b.timer.Stop()
	}
	b.timer = time.AfterFunc(idleAfter, b.idle)
}

func (b *bodies) idle() {
	b.mu.Lock()
	quiet := b.inUse == 0
	if quiet {
		b.peak = 0
	}
	b.mu.Unlock()
	if quiet {
		b.onIdle()
	}
}
