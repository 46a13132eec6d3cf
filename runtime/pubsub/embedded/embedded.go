package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/kitlog"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// StreamEnsurer creates a topic's stream before first use; the embedded
// broker implements it. Clients connect to URL with Token.
type StreamEnsurer interface {
	URL() string
	Token() string
	EnsureStream(topic string, limits broker.Limits) error
}

// Options configures Open.
type Options struct {
	// Broker backs pubsub.jetstream components that leave natsURL empty.
	Broker StreamEnsurer
	// AppID is the default consumer id, as daprd sets consumerID to its app id.
	AppID  string
	Logger *slog.Logger
}

// PubSub is one open Dapr pub/sub component.
type PubSub struct {
	name   string
	kind   kind
	meta   map[string]string
	ensure func(string) error
	log    *slog.Logger
	appID  string
	// perSubscription: each subscription opens its own instance with its
	// consumer set, because the Component does not name one.
	perSubscription bool

	pub contrib.PubSub // instance used for publishing (and subscribing when shared)
	// inProcess publishes instead of pub to the embedded broker when it
	// offers in-process connections (see inprocess.go).
	inProcess *inProcessPublisher
	// parallel consumes instead of the component for pubsub.jetstream's
	// concurrency "parallel" on the embedded broker (see parallel.go).
	parallel *parallel

	// life is cancelled once Close is done: every subscription has ended.
	life   context.Context
	cancel context.CancelFunc

	mu sync.Mutex
	// subs holds the per-subscription instances Close closes.
	subs   map[contrib.PubSub]struct{}
	closed bool
	// releasing counts per-subscription instances being closed because their
	// subscription ended; Close waits for them.
	releasing sync.WaitGroup
}

var _ pubsub.PubSub = (*PubSub)(nil)

// ErrUnsupportedType is returned for component types this adapter cannot open.
var ErrUnsupportedType = errors.New("unsupported pub/sub component type")

// Open initialises the component described by comp.
func Open(ctx context.Context, comp resources.Component, opts Options) (*PubSub, error) {
	k, ok, tag := lookup(comp.Type)
	if tag != "" {
		return nil, fmt.Errorf("component %s (%s): %w: %s is not built into this funcd (built with -tags %s); "+
			"`make build` includes it when a Component in its COMPONENTS folder (default components/) uses it, `go build ./cmd/funcd` includes every type",
			comp.Name, comp.File, ErrUnsupportedType, comp.Type, tag)
	}
	if !ok {
		return nil, fmt.Errorf("component %s (%s): %w %q (supported: %v)", comp.Name, comp.File, ErrUnsupportedType, comp.Type, Types())
	}
	if comp.Version != "v1" {
		return nil, fmt.Errorf("component %s (%s): %s version %q is not supported (use v1)", comp.Name, comp.File, comp.Type, comp.Version)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ps := &PubSub{name: comp.Name, kind: k, meta: maps.Clone(comp.Metadata), log: log.With("pubsub", comp.Name)}
	if ps.meta == nil {
		ps.meta = map[string]string{}
	}
	ps.perSubscription = k.consumerKey != "" && ps.meta[k.consumerKey] == ""
	ps.appID = opts.AppID
	if comp.Type == "pubsub.jetstream" {
		if err := checkParallel(ps.meta); err != nil {
			return nil, fmt.Errorf("component %s (%s): %w", comp.Name, comp.File, err)
		}
		if ps.meta["natsURL"] == "" {
			if opts.Broker == nil {
				return nil, fmt.Errorf("component %s (%s): natsURL is empty and no embedded broker is running", comp.Name, comp.File)
			}
			ps.meta["natsURL"] = opts.Broker.URL()
			// The embedded broker takes only its own token.
			for _, k := range []string{"jwt", "seedKey", "tls_client_cert", "tls_client_key"} {
				delete(ps.meta, k)
			}
			ps.meta["token"] = opts.Broker.Token()
			limits, err := streamLimits(ps.meta)
			if err != nil {
				return nil, fmt.Errorf("component %s (%s): %w", comp.Name, comp.File, err)
			}
			ps.ensure = func(topic string) error { return opts.Broker.EnsureStream(topic, limits) }
		}
		conf, err := newJetStreamConn(ps.meta)
		if err != nil {
			return nil, fmt.Errorf("component %s (%s): %w", comp.Name, comp.File, err)
		}
		inProc, _ := opts.Broker.(InProcess)
		if comp.Metadata["natsURL"] != "" {
			inProc = nil
		}
		if inProc != nil {
			ps.inProcess = &inProcessPublisher{broker: inProc, opts: conf.options(), jsOpts: conf.jsOptions()}
		}
		if ps.meta["concurrency"] == string(contrib.Parallel) {
			ps.parallel = &parallel{conf: conf, log: ps.log, done: make(chan struct{})}
			if inProc != nil {
				ps.parallel.dial = inProc.Connect
			}
		}
	}
	pub, err := ps.init(ctx, ps.meta)
	if err != nil {
		return nil, fmt.Errorf("component %s (%s): %w", comp.Name, comp.File, err)
	}
	ps.pub = pub
	ps.life, ps.cancel = context.WithCancel(context.Background())
	return ps, nil
}

func (p *PubSub) init(ctx context.Context, meta map[string]string) (contrib.PubSub, error) {
	c := p.kind.open(kitlog.New(p.log))
	md := contrib.Metadata{}
	md.Name = p.name
	md.Properties = meta
	if err := c.Init(ctx, md); err != nil {
		return nil, fmt.Errorf("init: %w", err)
	}
	return c, nil
}

// Publish stores msg on its topic.
func (p *PubSub) Publish(ctx context.Context, msg *pubsub.Message) error {
	if err := p.ready(msg.Topic); err != nil {
		return err
	}
	var err error
	if p.inProcess != nil {
		err = p.inProcess.publish(msg.Topic, msg.Data, msg.ID)
	} else {
		req := &contrib.PublishRequest{Data: msg.Data, PubsubName: p.name, Topic: msg.Topic, Metadata: msg.Metadata}
		if msg.ContentType != "" {
			req.ContentType = &msg.ContentType
		}
		err = p.pub.Publish(ctx, req)
	}
	if err != nil {
		return p.publishError(msg.Topic, msg.Data, err)
	}
	return nil
}

// publishError gives err, the failure to publish data to topic, its context.
func (p *PubSub) publishError(topic string, data []byte, err error) error {
	if p.kind.tooLarge != nil && p.kind.tooLarge(err) {
		err = fmt.Errorf("%w: %d bytes: %w", pubsub.ErrTooLarge, len(data), err)
	}
	return fmt.Errorf("publish to %s/%s: %w", p.name, topic, err)
}

// Subscribe delivers the topic's messages to h until ctx is done or Close,
// then calls sub.Stopped once h has returned for the last time and, for
// kinds that close it then, the subscription's own instance is closed.
func (p *PubSub) Subscribe(ctx context.Context, sub pubsub.Subscription, h pubsub.Handler) error {
	if err := p.ready(sub.Topic); err != nil {
		return err
	}
	subCtx := ctx
	// Counts the handler's calls in flight, so Stopped waits for the last.
	var inflight delivery.Gate
	handler := func(ctx context.Context, m *contrib.NewMessage) error {
		if !inflight.Enter() {
			return errSubscriptionEnded
		}
		defer inflight.Leave()
		// Components can hand over a message they fetched as the
		// subscription ended (Redis: a blocked XREADGROUP returns after
		// cancel). Leave it unacknowledged for the next subscriber.
		if subCtx.Err() != nil {
			return errSubscriptionEnded
		}
		msg := &pubsub.Message{Topic: m.Topic, Data: m.Data, Metadata: m.Metadata}
		if m.ContentType != nil {
			msg.ContentType = *m.ContentType
		}
		return h(ctx, msg)
	}
	release := func() {}
	if p.parallel != nil {
		meta, _ := p.subscriptionMeta(sub)
		err := p.whileBound(ctx, func() error { return p.parallel.subscribe(ctx, meta, sub.Metadata, sub.Topic, handler) })
		if err != nil {
			return fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, err)
		}
	} else {
		c, err := p.subscriber(ctx, sub)
		if err != nil {
			return fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, err)
		}
		req := contrib.SubscribeRequest{Topic: sub.Topic, Metadata: sub.Metadata}
		if err := p.whileBound(ctx, func() error { return c.Subscribe(ctx, req, handler) }); err != nil {
			if c != p.pub {
				p.release(c)
			}
			return fmt.Errorf("subscribe to %s/%s: %w", p.name, sub.Topic, err)
		}
		if c != p.pub && p.kind.closeOnEnd {
			release = func() { p.release(c) }
		}
	}
	p.onEnd(ctx, func() {
		release()
		<-inflight.Close()
		if sub.Stopped != nil {
			sub.Stopped()
		}
	})
	return nil
}

// boundWait is how long Subscribe tries again while the broker says another
// subscription holds the consumer (kind.stillBound): long enough for the
// broker to release the consumer of a subscription that just ended, short
// enough to report a consumer another process keeps.
const boundWait = 5 * time.Second

// whileBound calls subscribe, and again while its error says the consumer
// is still bound, for up to boundWait or until ctx is done.
func (p *PubSub) whileBound(ctx context.Context, subscribe func() error) error {
	err := subscribe()
	if p.kind.stillBound == nil {
		return err
	}
	deadline := time.Now().Add(boundWait)
	for delay := 5 * time.Millisecond; err != nil && p.kind.stillBound(err); delay = min(2*delay, 250*time.Millisecond) {
		if !time.Now().Before(deadline) {
			return fmt.Errorf("%w (still bound after %v: another subscriber uses this consumer; "+
				"give each its own consumer, or share it with queueGroupName)", err, boundWait)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		err = subscribe()
	}
	return err
}

// errSubscriptionEnded hands a message back to the broker: its subscription
// ended while the component was delivering it.
var errSubscriptionEnded = errors.New("subscription ended")

// subscriber returns the component instance a subscription reads from: its
// own instance with the consumer set when the type has a consumer key. That
// instance is closed by Close, or when the subscription ends for kinds that
// closeOnEnd (see Subscribe).
func (p *PubSub) subscriber(ctx context.Context, sub pubsub.Subscription) (contrib.PubSub, error) {
	meta, own := p.subscriptionMeta(sub)
	if !own {
		return p.pub, nil
	}
	c, err := p.init(ctx, meta)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.Join(pubsub.ErrClosed, closeWithin(c, closeTimeout))
	}
	if p.subs == nil {
		p.subs = map[contrib.PubSub]struct{}{}
	}
	p.subs[c] = struct{}{}
	return c, nil
}

// subscriptionMeta is the component metadata a subscription reads with:
// with its consumer set, and own true, when the type has a consumer key
// the Component leaves unset.
func (p *PubSub) subscriptionMeta(sub pubsub.Subscription) (meta map[string]string, own bool) {
	consumer := cmp.Or(sub.Consumer, p.appID)
	if !p.perSubscription || consumer == "" {
		return p.meta, false
	}
	meta = maps.Clone(p.meta)
	if p.kind.sanitize != nil {
		consumer = p.kind.sanitize(consumer)
	}
	meta[p.kind.consumerKey] = consumer
	return meta, true
}

// release closes the per-subscription instance c unless Close took it.
func (p *PubSub) release(c contrib.PubSub) {
	p.mu.Lock()
	_, ok := p.subs[c]
	delete(p.subs, c)
	if ok {
		p.releasing.Add(1) // under mu: Close, once it took subs, waits for it
	}
	p.mu.Unlock()
	if !ok {
		return
	}
	defer p.releasing.Done()
	if err := closeWithin(c, closeTimeout); err != nil {
		p.log.Warn("close the instance of an ended subscription", "error", err)
	}
}

func (p *PubSub) ready(topic string) error {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return pubsub.ErrClosed
	}
	if p.ensure != nil {
		return p.ensure(topic)
	}
	return nil
}

// Close stops subscriptions, then the publishing instance. Each
// subscription's Stopped is called after.
func (p *PubSub) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	subs := p.subs
	p.subs = nil
	p.mu.Unlock()
	defer p.cancel()
	// Instances close side by side: each may take up to closeTimeout.
	instances := slices.Collect(maps.Keys(subs))
	errs := make([]error, len(instances), len(instances)+3)
	var wg sync.WaitGroup
	for i, c := range instances {
		wg.Go(func() { errs[i] = closeWithin(c, closeTimeout) })
	}
	wg.Wait()
	p.releasing.Wait()
	if p.parallel != nil {
		errs = append(errs, p.parallel.close())
	}
	if p.inProcess != nil {
		errs = append(errs, p.inProcess.close())
	}
	errs = append(errs, closeWithin(p.pub, closeTimeout))
	return errors.Join(errs...)
}

// closeTimeout bounds how long closing one component instance may take.
const closeTimeout = 10 * time.Second

// closeWithin closes c, giving up after d with an error. A component's
// Close can wait forever: components-contrib's Redis streams waits for its
// read loop, and a blocking XREADGROUP on a connection its client dialed
// while closing is never interrupted (go-redis closes only the connections
// it had). The instance is then left behind, rather than funcd's shutdown.
func closeWithin(c io.Closer, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.Close() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("close did not return within %v; the instance is left behind", d)
	}
}
