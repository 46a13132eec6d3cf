package embedded

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
	kitmd "github.com/dapr/kit/metadata"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/funcd/funcd/runtime/pubsub"
)

// parallel consumes topics for a pubsub.jetstream component with
// `concurrency: parallel`: several messages in flight, each
// acknowledged only once its handler returned, which is what Dapr
// documents for that mode.
//
// Dapr's component (components-contrib v1.16.1) subscribes without
// nats.ManualAck, so nats.go acknowledges each message as soon as the
// component's callback hands it to a goroutine, before it is processed: a
// failed or interrupted delivery is lost. parallel creates the same durable
// push consumer the component creates, from the same metadata, and
// subscribes with manual acknowledgements. Switching a Component between
// single and parallel keeps the consumer and its position. On the embedded
// broker it connects in-process (dial). Publishing stays
// with the component.
type parallel struct {
	conf jetStreamConn
	log  *slog.Logger
	// dial connects to the embedded broker in-process; nil: over the
	// network to conf.NatsURL.
	dial func(...nats.Option) (*nats.Conn, error)

	mu     sync.Mutex
	nc     *nats.Conn
	subs   map[*nats.Subscription]bool
	closed bool
	// inflight counts handlers running; Close waits for them.
	inflight sync.WaitGroup
	// done is closed by close: idle workers end.
	done chan struct{}
}

// workerIdle is how long a subscription's worker waits for another
// message before it ends.
const workerIdle = 5 * time.Second

// jetStreamMeta is the part of pubsub.jetstream's metadata that shapes
// its consumer, decoded as the component decodes it (its metadata.go).
type jetStreamMeta struct {
	StreamName     string          `mapstructure:"streamName"`
	DurableName    string          `mapstructure:"durableName"`
	QueueGroupName string          `mapstructure:"queueGroupName"`
	StartSequence  uint64          `mapstructure:"startSequence"`
	StartTime      *uint64         `mapstructure:"startTime"`
	FlowControl    bool            `mapstructure:"flowControl"`
	AckWait        time.Duration   `mapstructure:"ackWait"`
	MaxDeliver     int             `mapstructure:"maxDeliver"`
	BackOff        []time.Duration `mapstructure:"backOff"`
	MaxAckPending  int             `mapstructure:"maxAckPending"`
	Replicas       int             `mapstructure:"replicas"`
	MemoryStorage  bool            `mapstructure:"memoryStorage"`
	RateLimit      uint64          `mapstructure:"rateLimit"`
	Heartbeat      time.Duration   `mapstructure:"heartbeat"`
	DeliverPolicy  string          `mapstructure:"deliverPolicy"`
	AckPolicy      string          `mapstructure:"ackPolicy"`
}

// jetStreamConn is the part of pubsub.jetstream's metadata that says how
// to connect, read and applied as the component does (its Init).
type jetStreamConn struct {
	NatsURL       string `mapstructure:"natsURL"`
	Name          string `mapstructure:"name"`
	Jwt           string `mapstructure:"jwt"`
	SeedKey       string `mapstructure:"seedKey"`
	Token         string `mapstructure:"token"`
	TLSClientCert string `mapstructure:"tls_client_cert"`
	TLSClientKey  string `mapstructure:"tls_client_key"`
	Domain        string `mapstructure:"domain"`
	APIPrefix     string `mapstructure:"apiPrefix"`
}

func newJetStreamConn(meta map[string]string) (jetStreamConn, error) {
	var c jetStreamConn
	if err := kitmd.DecodeMetadata(meta, &c); err != nil {
		return c, fmt.Errorf("jetstream connection metadata: %w", err)
	}
	return c, nil
}

// options are the component's connection options: the same client name,
// and JWT with seed, else TLS client certificate, else token.
func (c jetStreamConn) options() []nats.Option {
	opts := []nats.Option{nats.Name(cmp.Or(c.Name, "dapr.io - pubsub.jetstream"))}
	switch {
	case c.Jwt != "" && c.SeedKey != "":
		seed := c.SeedKey
		opts = append(opts, nats.UserJWT(
			func() (string, error) { return c.Jwt, nil },
			func(nonce []byte) ([]byte, error) {
				kp, err := nkeys.FromSeed([]byte(seed))
				if err != nil {
					return nil, fmt.Errorf("jetstream seedKey: %w", err)
				}
				defer kp.Wipe()
				return kp.Sign(nonce)
			}))
	case c.TLSClientCert != "" && c.TLSClientKey != "":
		opts = append(opts, nats.ClientCert(c.TLSClientCert, c.TLSClientKey))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	}
	return opts
}

func (c jetStreamConn) jsOptions() []nats.JSOpt {
	var opts []nats.JSOpt
	if c.Domain != "" {
		opts = append(opts, nats.Domain(c.Domain))
	}
	if c.APIPrefix != "" {
		opts = append(opts, nats.APIPrefix(c.APIPrefix))
	}
	return opts
}

// defaultInFlight bounds the messages in flight of a parallel subscription
// when neither the Component's maxAckPending nor the Subscription's
// maxConcurrency says otherwise: the binding's default maxConcurrency.
const defaultInFlight = 16

// checkParallel refuses what parallel cannot honour: ack policies other
// than explicit.
func checkParallel(meta map[string]string) error {
	if meta["concurrency"] != string(contrib.Parallel) {
		return nil
	}
	var m jetStreamMeta
	if err := kitmd.DecodeMetadata(meta, &m); err != nil {
		return fmt.Errorf("jetstream metadata: %w", err)
	}
	if m.AckPolicy != "" && m.AckPolicy != "explicit" {
		return fmt.Errorf(`concurrency "parallel" needs ackPolicy "explicit" (the default), not %q: `+
			`with "all" one acknowledgement covers messages still being processed, with "none" nothing is acknowledged`, m.AckPolicy)
	}
	return nil
}

// consumerConfig is the consumer the component creates for topic (its
// Subscribe), with room for limit messages in flight unless maxAckPending
// says otherwise.
func (m jetStreamMeta) consumerConfig(topic string, limit int) (*nats.ConsumerConfig, error) {
	cfg := &nats.ConsumerConfig{
		DeliverSubject: nats.NewInbox(),
		Durable:        m.DurableName,
		DeliverGroup:   m.QueueGroupName,
		OptStartSeq:    m.StartSequence,
		FlowControl:    m.FlowControl,
		AckWait:        m.AckWait,
		MaxDeliver:     m.MaxDeliver,
		BackOff:        m.BackOff,
		MaxAckPending:  limit,
		Replicas:       m.Replicas,
		MemoryStorage:  m.MemoryStorage,
		RateLimit:      m.RateLimit,
		Heartbeat:      m.Heartbeat,
		AckPolicy:      nats.AckExplicitPolicy,
		FilterSubject:  topic,
	}
	if m.StartTime != nil {
		t := time.Unix(int64(*m.StartTime), 0) //nolint:gosec // a Unix time in seconds, as the component reads it
		cfg.OptStartTime = &t
	}
	switch m.DeliverPolicy {
	case "all", "":
		cfg.DeliverPolicy = nats.DeliverAllPolicy
	case "last":
		cfg.DeliverPolicy = nats.DeliverLastPolicy
	case "new":
		cfg.DeliverPolicy = nats.DeliverNewPolicy
	case "sequence":
		cfg.DeliverPolicy = nats.DeliverByStartSequencePolicy
	case "time":
		cfg.DeliverPolicy = nats.DeliverByStartTimePolicy
	default:
		return nil, fmt.Errorf("deliver policy %s is not one of: all, last, new, sequence, time", m.DeliverPolicy)
	}
	return cfg, nil
}

// inFlight is how many messages a subscription may have in flight: one for
// a Subscription with ordered "true" (handlers started together could reach
// the binding out of order), else the Component's maxAckPending, else the
// Subscription's maxConcurrency, else defaultInFlight.
func inFlight(m jetStreamMeta, subMeta map[string]string) int {
	if ordered, _ := strconv.ParseBool(subMeta["ordered"]); ordered {
		return 1
	}
	if m.MaxAckPending > 0 {
		return m.MaxAckPending
	}
	if n, err := strconv.Atoi(subMeta["maxConcurrency"]); err == nil && n > 0 {
		return n
	}
	return defaultInFlight
}

func (p *parallel) conn() (*nats.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errors.New("component is closed")
	}
	if p.nc == nil {
		dial := p.dial
		if dial == nil {
			dial = func(opts ...nats.Option) (*nats.Conn, error) { return nats.Connect(p.conf.NatsURL, opts...) }
		}
		nc, err := dial(p.conf.options()...)
		if err != nil {
			return nil, fmt.Errorf("connect to %s: %w", p.conf.NatsURL, err)
		}
		p.nc = nc
	}
	return p.nc, nil
}

// subscribe delivers topic's messages to h, up to the subscription's
// in-flight limit at once, until ctx is done or close. meta is the
// component's metadata with the subscription's durable name set.
func (p *parallel) subscribe(ctx context.Context, meta, subMeta map[string]string, topic string, h contrib.Handler) error {
	var m jetStreamMeta
	if err := kitmd.DecodeMetadata(meta, &m); err != nil {
		return fmt.Errorf("subscribe to %s: jetstream metadata: %w", topic, err)
	}
	limit := inFlight(m, subMeta)
	cfg, err := m.consumerConfig(topic, limit)
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	nc, err := p.conn()
	if err != nil {
		return fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	js, err := nc.JetStream(p.conf.jsOptions()...)
	if err != nil {
		return fmt.Errorf("subscribe to %s: jetstream context: %w", topic, err)
	}
	stream := m.StreamName
	if stream == "" {
		if stream, err = js.StreamNameBySubject(topic); err != nil {
			return fmt.Errorf("subscribe to %s: find the stream holding it: %w", topic, err)
		}
	}
	info, err := js.AddConsumer(stream, cfg)
	if err != nil {
		return fmt.Errorf("subscribe to %s: add consumer %s to stream %s: %w", topic, cfg.Durable, stream, err)
	}
	// Handlers run on up to limit workers (the server sends at most limit
	// unacknowledged messages). A worker takes the next message for
	// workerIdle after its last, so a stream of messages reuses goroutines,
	// and their grown stacks, rather than starting one per message.
	work := make(chan *nats.Msg)
	workers := make(chan struct{}, limit)
	worker := func(msg *nats.Msg) {
		defer func() { <-workers }()
		idle := time.NewTimer(workerIdle)
		defer idle.Stop()
		for {
			p.handle(ctx, msg, topic, m.AckWait, h)
			p.inflight.Done()
			idle.Reset(workerIdle)
			select {
			case msg = <-work:
			case <-idle.C:
				return
			case <-ctx.Done():
				return
			case <-p.done:
				return
			}
		}
	}
	deliver := func(msg *nats.Msg) {
		p.mu.Lock()
		if p.closed {
			// Left unacknowledged: the broker delivers it again later.
			p.mu.Unlock()
			return
		}
		p.inflight.Add(1) // under mu, so close's Wait sees every handler
		p.mu.Unlock()
		select {
		case work <- msg: // an idle worker
			return
		default:
		}
		select {
		case work <- msg:
		case workers <- struct{}{}:
			go worker(msg)
		}
	}
	opts := []nats.SubOpt{nats.Bind(stream, info.Name), nats.ManualAck()}
	var sub *nats.Subscription
	if m.QueueGroupName != "" {
		sub, err = js.QueueSubscribe(topic, m.QueueGroupName, deliver, opts...)
	} else {
		sub, err = js.Subscribe(topic, deliver, opts...)
	}
	if err != nil {
		return fmt.Errorf("subscribe to %s: bind consumer %s of stream %s: %w", topic, info.Name, stream, err)
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return errors.Join(errors.New("component is closed"), sub.Unsubscribe())
	}
	if p.subs == nil {
		p.subs = map[*nats.Subscription]bool{}
	}
	p.subs[sub] = true
	p.mu.Unlock()
	context.AfterFunc(ctx, func() { p.unsubscribe(sub) })
	return nil
}

// handle runs h on one message and acknowledges it after, as the component
// does in single mode: Ack on success, Nak (delayed by ackWait when set)
// on failure, so the broker delivers it again. While h runs, the message is
// reported in progress, so a short ackWait redelivers soon after a crash
// without redelivering a long delivery that is still running.
func (p *parallel) handle(ctx context.Context, msg *nats.Msg, topic string, ackWait time.Duration, h contrib.Handler) {
	stop := p.heartbeat(msg, ackWait)
	err := h(ctx, &contrib.NewMessage{Topic: topic, Data: msg.Data, Metadata: messageMetadata(msg)})
	stop()
	if err != nil {
		if ackWait != 0 {
			err = msg.NakWithDelay(ackWait)
		} else {
			err = msg.Nak()
		}
		if err != nil {
			p.log.Warn("nak a jetstream message", "subject", msg.Subject, "error", err)
		}
		return
	}
	if err := msg.Ack(); err != nil {
		p.log.Warn("ack a jetstream message", "subject", msg.Subject, "error", err)
	}
}

func (p *parallel) unsubscribe(sub *nats.Subscription) {
	p.mu.Lock()
	ok := p.subs[sub]
	delete(p.subs, sub)
	p.mu.Unlock()
	if !ok {
		return
	}
	if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		p.log.Warn("unsubscribe", "subject", sub.Subject, "error", err)
	}
}

// close ends every subscription, waits for the handlers running, then
// closes the connection; their acknowledgements are flushed first.
func (p *parallel) close() error {
	p.mu.Lock()
	if !p.closed {
		close(p.done)
	}
	p.closed = true
	subs := p.subs
	p.subs = nil
	nc := p.nc
	p.mu.Unlock()
	var errs []error
	for sub := range subs {
		if err := sub.Unsubscribe(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			errs = append(errs, err)
		}
	}
	p.inflight.Wait()
	if nc != nil {
		errs = append(errs, nc.Flush())
		nc.Close()
	}
	return errors.Join(errs...)
}

// messageMetadata is what the component gives a handler, with the time the
// broker stored the message (pubsub.PublishTimeKey).
func messageMetadata(msg *nats.Msg) map[string]string {
	md := map[string]string{"Topic": msg.Subject}
	if meta, err := msg.Metadata(); err == nil && !meta.Timestamp.IsZero() {
		md[pubsub.PublishTimeKey] = meta.Timestamp.Format(time.RFC3339Nano)
	}
	return md
}
