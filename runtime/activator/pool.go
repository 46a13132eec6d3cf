package activator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// pool is one function's instances and waiting callers.
type pool struct {
	name  string
	start Starter
	opts  Options
	log   *slog.Logger

	mu       sync.Mutex
	slots    []*slot
	starting int
	waiting  int
	changed  chan struct{} // closed and replaced whenever capacity changes
	lastErr  error         // the last failed start, until one succeeds
	failed   error         // set by Activator.Fail: no start is tried
	closed   bool
	stopping sync.WaitGroup // instances being stopped by the reaper or recycle
	retiring map[*slot]bool // recycled instances still serving requests
	stats    stats
}

// slot is one running instance and its load.
type slot struct {
	inst     Instance
	inflight int
	lastUsed time.Time
	retired  bool // replaced by recycle: stopped once its last request ends
}

func newPool(name string, start Starter, opts Options, log *slog.Logger) *pool {
	return &pool{name: name, start: start, opts: opts, log: log, changed: make(chan struct{})}
}

// broadcast wakes every waiter; call with mu held.
func (p *pool) broadcast() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *pool) acquire(ctx context.Context, kind Kind) (string, func(bool), error) {
	var timeout <-chan time.Time
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return "", nil, ErrStopped
		}
		if s := p.pick(); s != nil {
			s.inflight++
			p.stats.count(kind)
			p.mu.Unlock()
			return s.inst.URL(), p.releaser(s, kind), nil
		}
		if err := p.failed; err != nil {
			p.mu.Unlock()
			return "", nil, fmt.Errorf("function %s: %w: %w", p.name, ErrStartFailed, err)
		}
		if err := p.lastErr; err != nil && p.starting == 0 && len(p.slots) == 0 && timeout != nil {
			p.mu.Unlock()
			return "", nil, err
		}
		p.scaleUp()
		if size := p.opts.QueueSize; p.waiting >= size {
			p.mu.Unlock()
			return "", nil, fmt.Errorf("function %s: %w (%d)", p.name, ErrOverloaded, size)
		}
		p.waiting++
		wake := p.changed
		queueTimeout := p.opts.QueueTimeout
		p.mu.Unlock()
		if timeout == nil {
			t := time.NewTimer(queueTimeout)
			defer t.Stop()
			timeout = t.C
		}
		err := wait(ctx, wake, timeout)
		p.mu.Lock()
		p.waiting--
		p.mu.Unlock()
		if err != nil {
			return "", nil, fmt.Errorf("function %s: no instance within %s: %w", p.name, queueTimeout, err)
		}
	}
}

func wait(ctx context.Context, wake <-chan struct{}, timeout <-chan time.Time) error {
	select {
	case <-wake:
		return nil
	case <-timeout:
		return ErrOverloaded
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pick returns the least loaded instance with room, or nil.
func (p *pool) pick() *slot {
	var best *slot
	for _, s := range p.slots {
		if p.opts.Concurrency > 0 && s.inflight >= p.opts.Concurrency {
			continue
		}
		if best == nil || s.inflight < best.inflight {
			best = s
		}
	}
	return best
}

// scaleUp starts one more instance when none is starting and the limits
// allow it; call with mu held.
func (p *pool) scaleUp() {
	if p.starting > 0 {
		return
	}
	n := len(p.slots)
	switch {
	case p.opts.MaxScale > 0 && n >= p.opts.MaxScale:
		return
	case p.opts.Concurrency == 0 && n >= 1:
		return
	}
	p.starting++
	go p.startOne(n == 0)
}

func (p *pool) startOne(cold bool) {
	began := time.Now()
	inst, err := p.start(context.Background())
	took := time.Since(began)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.starting--
	defer p.broadcast()
	if err != nil {
		p.lastErr = fmt.Errorf("function %s: %w: %w", p.name, ErrStartFailed, err)
		p.stats.startFailures++
		p.log.Error("start failed", "error", err)
		return
	}
	if p.closed {
		go inst.Stop(context.Background()) //nolint:errcheck // closing; nothing to report to
		return
	}
	p.lastErr = nil
	p.slots = append(p.slots, &slot{inst: inst, lastUsed: time.Now()})
	p.stats.started(cold, took)
	p.log.Info("instance started", "instances", len(p.slots), "cold", cold, "took", took.Round(time.Microsecond))
}

func (p *pool) releaser(s *slot, kind Kind) func(bool) {
	var once sync.Once
	return func(failed bool) {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			s.inflight--
			s.lastUsed = time.Now()
			if failed {
				p.stats.failures++
			}
			if s.retired && s.inflight == 0 {
				p.retire(s)
			}
			if p.waiting > 0 {
				p.broadcast()
			}
		})
	}
}

// ensureMin starts instances up to MinScale and waits for them, unless the
// function failed.
func (p *pool) ensureMin(ctx context.Context) error {
	p.mu.Lock()
	minScale := p.opts.MinScale
	if p.failed != nil {
		minScale = 0
	}
	p.mu.Unlock()
	for range minScale {
		inst, err := p.start(ctx)
		if err != nil {
			err = fmt.Errorf("function %s: min-scale instance: %w", p.name, err)
			p.mu.Lock()
			p.lastErr = err
			p.stats.startFailures++
			p.mu.Unlock()
			return err
		}
		p.mu.Lock()
		p.slots = append(p.slots, &slot{inst: inst, lastUsed: time.Now()})
		p.broadcast()
		p.mu.Unlock()
	}
	return nil
}

// reapIdle stops instances idle longer than Idle, keeping MinScale.
func (p *pool) reapIdle(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	keep := p.slots[:0]
	for i, s := range p.slots {
		idle := s.inflight == 0 && now.Sub(s.lastUsed) >= p.opts.Idle
		if idle && len(p.slots)-i+len(keep) > p.opts.MinScale && !p.closed {
			p.stopping.Add(1)
			go p.stopIdle(s.inst, p.opts.Idle)
			continue
		}
		keep = append(keep, s)
	}
	clear(p.slots[len(keep):])
	p.slots = keep
}

func (p *pool) stopIdle(inst Instance, idle time.Duration) {
	defer p.stopping.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := inst.Stop(ctx); err != nil {
		p.log.Warn("stop idle instance", "error", err)
		return
	}
	p.mu.Lock()
	n := len(p.slots)
	p.stats.scaledDown++
	p.mu.Unlock()
	p.log.Info("instance stopped after idle", "idle", idle, "instances", n)
}

// setOptions replaces the scaling options; running instances above a new
// MinScale go when idle, a higher MinScale is reached on the next recycle or
// request.
func (p *pool) setOptions(opts Options) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opts = opts
	p.broadcast() // waiters re-check against the new limits
}

// recycle replaces the running instances: they get no new requests and
// stop once their requests in flight end; new requests start new
// instances, and MinScale instances are started now.
func (p *pool) recycle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0
	}
	old := p.slots
	p.slots = nil
	if p.retiring == nil {
		p.retiring = map[*slot]bool{}
	}
	for _, s := range old {
		s.retired = true
		p.retiring[s] = true
		if s.inflight == 0 {
			p.retire(s)
		}
	}
	p.failed, p.lastErr = nil, nil
	p.startMin()
	if p.waiting > 0 && p.opts.MinScale == 0 {
		p.scaleUp()
	}
	return len(old)
}

// startMin starts MinScale instances in the background; call with mu held.
func (p *pool) startMin() {
	for range p.opts.MinScale {
		p.starting++
		go p.startOne(true)
	}
}

// retire stops a recycled instance unless close took it; call with mu held.
func (p *pool) retire(s *slot) {
	if !p.retiring[s] {
		return
	}
	delete(p.retiring, s)
	p.stopping.Add(1)
	go func() {
		defer p.stopping.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.inst.Stop(ctx); err != nil {
			p.log.Warn("stop replaced instance", "error", err)
		}
	}()
}

// close stops every instance; new callers get ErrStopped.
func (p *pool) close(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	slots := p.slots
	p.slots = nil
	for s := range p.retiring {
		slots = append(slots, s)
	}
	p.retiring = nil
	p.broadcast()
	p.mu.Unlock()
	var errs []error
	for _, s := range slots {
		errs = append(errs, s.inst.Stop(ctx))
	}
	p.stopping.Wait()
	return errors.Join(errs...)
}
