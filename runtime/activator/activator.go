package activator

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Instance is one running instance of a function.
type Instance interface {
	URL() string
	Stop(ctx context.Context) error
}

// Starter starts a new instance and returns once it is ready.
type Starter func(ctx context.Context) (Instance, error)

// Kind says who asks for an endpoint, for the statistics.
type Kind int

const (
	Request  Kind = iota // an HTTP request through the gateway
	Delivery             // a pub/sub delivery from the binding
)

// Errors callers map to 404 and 503.
var (
	ErrUnknownFunction = errors.New("unknown function")
	ErrOverloaded      = errors.New("too many requests waiting for the function")
	ErrStartFailed     = errors.New("function failed to start")
	ErrStopped         = errors.New("activator stopped")
)

// Activator manages the instances of every function.
type Activator struct {
	log   *slog.Logger
	mu    sync.RWMutex
	pools map[string]*pool

	started  bool // Start was called: Add starts MinScale instances itself
	stopOnce sync.Once
	done     chan struct{}
	reaper   sync.WaitGroup
}

// New returns an empty activator; Add functions, then Start.
func New(log *slog.Logger) *Activator {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Activator{log: log, pools: map[string]*pool{}, done: make(chan struct{})}
}

// Add registers a function with its starter and scaling options. After
// Start, its MinScale instances start in the background.
func (a *Activator) Add(name string, start Starter, opts Options) error {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.pools[name]; dup {
		return fmt.Errorf("function %s is added twice", name)
	}
	p := newPool(name, start, opts, a.log.With("function", name))
	a.pools[name] = p
	if a.started {
		p.mu.Lock()
		p.startMin()
		p.mu.Unlock()
	}
	return nil
}

// Remove stops the function's instances (ctx bounds each stop) and forgets
// it: callers then get ErrUnknownFunction.
func (a *Activator) Remove(ctx context.Context, name string) error {
	a.mu.Lock()
	p, ok := a.pools[name]
	delete(a.pools, name)
	a.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	return p.close(ctx)
}

// Fail records that the function cannot start, e.g. because its build
// failed: while none of its instances runs, callers get an error wrapping
// ErrStartFailed and err at once, and Status says "failed". Instances that
// run keep serving. Recycle (after a new build) clears it.
func (a *Activator) Fail(name string, err error) error {
	a.mu.RLock()
	p, ok := a.pools[name]
	a.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failed = err
	p.broadcast() // waiters see the failure now
	return nil
}

// Start starts every function's minimum instances and the idle reaper. A
// function whose minimum instances fail to start is reported in the error
// and started again on demand; the others run.
func (a *Activator) Start(ctx context.Context) error {
	a.mu.Lock()
	a.started = true
	a.mu.Unlock()
	var errs []error
	for _, p := range a.all() {
		errs = append(errs, p.ensureMin(ctx))
	}
	a.reaper.Add(1)
	go a.reap()
	return errors.Join(errs...)
}

// Acquire returns the base URL of an instance of the function with room for
// one more request, starting one if needed, and the release to call when
// the request is done (failed reports a 5xx or transport failure).
func (a *Activator) Acquire(ctx context.Context, name string, kind Kind) (string, func(failed bool), error) {
	a.mu.RLock()
	p, ok := a.pools[name]
	a.mu.RUnlock()
	if !ok {
		return "", nil, fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	return p.acquire(ctx, kind)
}

// Update replaces the function's scaling options, e.g. after its func.yaml
// changed. Instances above a lower maximum or minimum go when idle.
func (a *Activator) Update(name string, opts Options) error {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return fmt.Errorf("function %s: %w", name, err)
	}
	a.mu.RLock()
	p, ok := a.pools[name]
	a.mu.RUnlock()
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	p.setOptions(opts)
	return nil
}

// Recycle replaces the function's running instances, after its code
// changed: they take no new requests and stop once the requests they hold
// end; the next request starts a new instance (MinScale ones start now).
// It clears a failure set by Fail and returns how many instances it
// replaced.
func (a *Activator) Recycle(name string) (int, error) {
	a.mu.RLock()
	p, ok := a.pools[name]
	a.mu.RUnlock()
	if !ok {
		return 0, fmt.Errorf("%w %q", ErrUnknownFunction, name)
	}
	return p.recycle(), nil
}

// Status reports every function, sorted by name.
func (a *Activator) Status() []Status {
	pools := a.all()
	out := make([]Status, 0, len(pools))
	for _, p := range pools {
		out = append(out, p.status())
	}
	return out
}

// Stop stops the reaper and every instance; ctx bounds each instance's stop.
func (a *Activator) Stop(ctx context.Context) error {
	a.stopOnce.Do(func() { close(a.done) })
	a.reaper.Wait()
	var wg sync.WaitGroup
	errs := make([]error, len(a.all()))
	for i, p := range a.all() {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = p.close(ctx) }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (a *Activator) all() []*pool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]*pool, 0, len(a.pools))
	for _, p := range a.pools {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// reap stops idle instances above each function's minimum.
func (a *Activator) reap() {
	defer a.reaper.Done()
	t := time.NewTicker(reapEvery)
	defer t.Stop()
	for {
		select {
		case <-a.done:
			return
		case now := <-t.C:
			for _, p := range a.all() {
				p.reapIdle(now)
			}
		}
	}
}

// reapEvery is how often idle instances are looked for.
const reapEvery = 50 * time.Millisecond
