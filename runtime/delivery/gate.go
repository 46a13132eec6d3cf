package delivery

import "sync"

// Gate counts deliveries in flight and, once closed, admits no more, so a
// Stop can wait for the last one. (A bare WaitGroup would let a delivery's
// Add race with Stop's Wait.) The zero value is open.
type Gate struct {
	mu       sync.RWMutex
	closed   bool
	inflight sync.WaitGroup
}

// Enter admits one delivery unless the gate is closed; Leave must follow.
func (g *Gate) Enter() bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return false
	}
	g.inflight.Add(1)
	return true
}

// Leave ends a delivery Enter admitted.
func (g *Gate) Leave() { g.inflight.Done() }

// Close admits no more deliveries; the channel is closed when the last one
// in flight leaves.
func (g *Gate) Close() <-chan struct{} {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	done := make(chan struct{})
	go func() { g.inflight.Wait(); close(done) }()
	return done
}
