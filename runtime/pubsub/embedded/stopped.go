package embedded

import (
	"context"
	"sync"
)

// calls counts a subscription's handler calls in flight. Once ended it
// admits no more, so the subscription's Stopped can wait for the last one.
// (A bare WaitGroup would let a call's Add race with end's Wait.)
type calls struct {
	mu       sync.RWMutex
	ended    bool
	inflight sync.WaitGroup
}

// enter admits one call unless ended; leave must follow.
func (c *calls) enter() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.ended {
		return false
	}
	c.inflight.Add(1)
	return true
}

func (c *calls) leave() { c.inflight.Done() }

// end admits no more calls and waits for those in flight.
func (c *calls) end() {
	c.mu.Lock()
	c.ended = true
	c.mu.Unlock()
	c.inflight.Wait()
}

// onEnd runs end, in a goroutine of its own, once ctx is done or the
// PubSub is closed.
func (p *PubSub) onEnd(ctx context.Context, end func()) {
	ctx, cancel := context.WithCancel(ctx)
	stopLife := context.AfterFunc(p.life, cancel)
	context.AfterFunc(ctx, func() {
		stopLife()
		cancel()
		end()
	})
}
