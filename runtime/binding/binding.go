package binding

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// Target resolves a function name to the base URL of a ready instance with
// room for one more delivery, starting one if needed; release is called when
// the attempt is over (failed: no 2xx). It fails when the function does not
// exist or cannot start; the binding then retries like any transient failure.
type Target interface {
	Acquire(ctx context.Context, function string) (url string, release func(failed bool), err error)
}

// PubSubs finds open pub/sub components by name.
type PubSubs interface {
	Get(name string) (pubsub.PubSub, bool)
}

// Config configures a Binding.
type Config struct {
	Subscriptions []resources.Subscription
	PubSubs       PubSubs
	Target        Target
	// Client sends the events; nil uses a pooled client made for this.
	Client *http.Client
	// Retry bounds in-process retries; the zero value uses DefaultRetryPolicy.
	Retry RetryPolicy
	// Timeout bounds one delivery attempt (default 30s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// Binding delivers the messages of a set of subscriptions to functions.
type Binding struct {
	cfg  Config
	subs []route
	log  *slog.Logger

	// life is cancelled on Stop's deadline to abort in-flight deliveries.
	life     context.Context
	cancel   context.CancelFunc
	inflight sync.WaitGroup
	stopping atomic.Bool
}

// route is one subscription resolved to its component and target.
type route struct {
	sub      resources.Subscription
	ps       pubsub.PubSub
	function string
	raw      bool
}

// ErrStopping is returned to the broker for messages that arrive during
// Stop; the broker delivers them again later.
var ErrStopping = errors.New("binding is stopping")

// New checks the configuration and resolves every subscription.
func New(cfg Config) (*Binding, error) {
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = DefaultRetryPolicy
	}
	if err := cfg.Retry.Validate(); err != nil {
		return nil, err
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Transport: newTransport()}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.PubSubs == nil || cfg.Target == nil {
		return nil, errors.New("binding: PubSubs and Target are required")
	}
	b := &Binding{cfg: cfg, log: cfg.Logger}
	for _, sub := range cfg.Subscriptions {
		r, err := b.resolve(sub)
		if err != nil {
			return nil, err
		}
		b.subs = append(b.subs, r)
	}
	return b, nil
}

func (b *Binding) resolve(sub resources.Subscription) (route, error) {
	ps, ok := b.cfg.PubSubs.Get(sub.PubsubName)
	if !ok {
		return route{}, fmt.Errorf("subscription %s (%s): pub/sub component %q is not loaded", sub.Name, sub.File, sub.PubsubName)
	}
	for _, rule := range sub.Routes.Rules {
		if rule.Match != "" {
			return route{}, fmt.Errorf("subscription %s (%s): routes.rules with match expressions are not supported yet; use routes.default", sub.Name, sub.File)
		}
	}
	paths := sub.Paths()
	return route{sub: sub, ps: ps, function: resources.Function(paths[0]), raw: rawPayload(sub.Metadata)}, nil
}

// Start subscribes to every subscription; deliveries run until Stop.
func (b *Binding) Start(ctx context.Context) error {
	b.life, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, r := range b.subs {
		s := pubsub.Subscription{Topic: r.sub.Topic, Consumer: r.sub.Name, Metadata: r.sub.Metadata}
		if err := r.ps.Subscribe(ctx, s, b.handler(r)); err != nil {
			return fmt.Errorf("subscription %s: %w", r.sub.Name, err)
		}
		b.log.Info("subscribed", "subscription", r.sub.Name, "pubsub", r.sub.PubsubName,
			"topic", r.sub.Topic, "function", r.function)
	}
	return nil
}

// Stop refuses new messages (the broker keeps them) and waits for in-flight
// deliveries until ctx is done, then aborts the rest (not acknowledged, so
// the broker delivers them again).
func (b *Binding) Stop(ctx context.Context) error {
	b.stopping.Store(true)
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("binding: in-flight deliveries aborted: %w", ctx.Err())
	}
	if b.cancel != nil {
		b.cancel()
	}
	<-done
	return err
}

func (b *Binding) handler(r route) pubsub.Handler {
	return func(_ context.Context, msg *pubsub.Message) error {
		b.inflight.Add(1)
		defer b.inflight.Done()
		if b.stopping.Load() {
			return ErrStopping
		}
		return b.process(b.life, r, msg)
	}
}
