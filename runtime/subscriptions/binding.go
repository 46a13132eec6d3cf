package subscriptions

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/tracing"
)

// PubSubs finds open pub/sub components by name.
type PubSubs interface {
	Get(name string) (pubsub.PubSub, bool)
}

// Config configures a Binding.
type Config struct {
	Subscriptions []resources.Subscription
	PubSubs       PubSubs
	Target        delivery.Target
	// Transport sends the events, one request per attempt; nil uses a
	// pooled one made for this.
	Transport http.RoundTripper
	// TracerProvider records a span per delivery and per attempt; nil
	// records none (the trace context still travels).
	TracerProvider trace.TracerProvider
	// Retry bounds in-process retries; the zero value uses DefaultRetryPolicy.
	Retry delivery.RetryPolicy
	// Timeout bounds one delivery attempt (default DefaultTimeout, lowered
	// to fit a component's redelivery timeout, see KeepsAlive).
	Timeout time.Duration
	// Resiliency holds Dapr Resiliency resources: the inbound retry, timeout
	// and circuit breaker policies they give a subscription's component
	// replace Retry and Timeout for its deliveries.
	Resiliency []resources.Resiliency
	// Components are the pub/sub Components the subscriptions name. A
	// subscription whose deliveries can outlast its component's redelivery
	// timeout is refused (see Policy.Budget and
	// resources.Component.Redelivery); one whose component is not listed
	// is not checked. Where no Resiliency timeout and no Timeout is given,
	// the default per-attempt timeout is first lowered to fit.
	Components []resources.Component
	// KeepsAlive reports whether the pub/sub adapter keeps a component's
	// messages from redelivery for as long as their delivery runs (funcd's
	// parallel JetStream consumer reports each in progress): deliveries
	// from it need not fit inside its redelivery timeout. nil: none does.
	KeepsAlive func(resources.Component) bool
	// Batch reports whether a function accepts CloudEvent batches: bulk
	// subscriptions deliver batches only to those. nil: none does.
	Batch func(function string) bool
	// App, when set, makes every delivery a Dapr app's (see App): route
	// paths name the app's paths, not functions, and answers mean what
	// they mean to daprd. Without it the function table applies.
	App    *App
	Logger *slog.Logger

	timeoutDefaulted bool // Timeout was not given
}

// withDefaults fills in the optional settings.
func (c Config) withDefaults() (Config, error) {
	if c.Retry == (delivery.RetryPolicy{}) {
		c.Retry = delivery.DefaultRetryPolicy
	}
	if err := c.Retry.Validate(); err != nil {
		return c, err
	}
	if c.Timeout <= 0 {
		c.Timeout = delivery.DefaultTimeout
		c.timeoutDefaulted = true
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Batch == nil {
		c.Batch = func(string) bool { return false }
	}
	return c, nil
}

// Binding delivers the messages of a set of subscriptions to functions.
type Binding struct {
	cfg       Config
	subs      []*subscription
	log       *slog.Logger
	deliverer *delivery.Deliverer
	policies  *delivery.Policies
	tracer    trace.Tracer

	// life is cancelled on Stop's deadline to abort in-flight deliveries.
	life   context.Context
	cancel context.CancelFunc
	gate   delivery.Gate
}

// New checks the configuration and resolves every subscription: its
// component, its routes (CEL rules compiled here), its policies and
// delivery settings. A bad subscription refuses to start, naming its file.
func New(cfg Config) (*Binding, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if cfg.PubSubs == nil || cfg.Target == nil {
		return nil, errors.New("binding: PubSubs and delivery.Target are required")
	}
	b := &Binding{
		cfg: cfg, log: cfg.Logger,
		deliverer: delivery.NewDeliverer(cfg.Target, cfg.Transport, cfg.Logger),
		tracer:    tracing.Tracer(cfg.TracerProvider),
		policies:  delivery.NewPolicies(cfg.Resiliency, delivery.Policy{Retry: cfg.Retry, Timeout: cfg.Timeout, TimeoutGiven: !cfg.timeoutDefaulted}, cfg.Logger),
		life:      context.Background(),
	}
	b.deliverer.SetTracerProvider(cfg.TracerProvider)
	for _, sub := range cfg.Subscriptions {
		s, err := b.newSubscription(sub)
		if err != nil {
			return nil, fmt.Errorf("%s: subscription %s: %w", sub.File, sub.Name, err)
		}
		b.subs = append(b.subs, s)
	}
	return b, nil
}

// Check resolves every subscription as New does (routes, delivery
// settings, policies, and their fit inside the component's redelivery
// timeout) without opening anything, so a configuration error shows before
// a connection is made. PubSubs and Target are not used.
func Check(cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	b := &Binding{cfg: cfg, log: cfg.Logger,
		policies: delivery.NewPolicies(cfg.Resiliency, delivery.Policy{Retry: cfg.Retry, Timeout: cfg.Timeout, TimeoutGiven: !cfg.timeoutDefaulted}, cfg.Logger)}
	var errs []error
	for _, sub := range cfg.Subscriptions {
		if _, err := b.resolve(sub); err != nil {
			errs = append(errs, fmt.Errorf("%s: subscription %s: %w", sub.File, sub.Name, err))
		}
	}
	return errors.Join(errs...)
}

// Start subscribes to every subscription; deliveries run until Stop.
func (b *Binding) Start(ctx context.Context) error {
	b.life, b.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, s := range b.subs {
		sub := pubsub.Subscription{Topic: s.res.Topic, Consumer: s.res.Name, Metadata: s.res.Metadata}
		if err := s.ps.Subscribe(ctx, sub, b.handler(s)); err != nil {
			return fmt.Errorf("subscription %s: %w", s.res.Name, err)
		}
		b.log.Info("subscribed", "subscription", s.res.Name, "pubsub", s.res.PubsubName,
			"topic", s.res.Topic, "functions", s.router.functions(), "max_concurrency", cap(s.slots),
			"ordered", s.ordered, "reply_topic", s.replyTopic)
	}
	return nil
}

// Stop refuses new messages (the broker keeps them) and waits for in-flight
// deliveries until ctx is done, then aborts the rest (not acknowledged, so
// the broker delivers them again).
func (b *Binding) Stop(ctx context.Context) error {
	done := b.gate.Close()
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

// handler is what the component calls for each message, possibly from many
// goroutines at once (e.g. pubsub.jetstream with concurrency: parallel).
func (b *Binding) handler(s *subscription) pubsub.Handler {
	return func(_ context.Context, msg *pubsub.Message) error {
		if !b.gate.Enter() {
			return delivery.ErrStopping
		}
		defer b.gate.Leave()
		err := b.process(b.life, s, msg)
		if err != nil {
			s.counters.returned.Add(1)
		}
		return err
	}
}
