package dapr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"sync"

	daprc "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Client is the part of the Dapr Go SDK client the adapter uses;
// daprc.Client (from Dial or daprc.NewClientWithAddressContext) has it.
type Client interface {
	PublishEvent(ctx context.Context, pubsubName, topic string, data any, opts ...daprc.PublishEventOption) error
	GrpcClientConn() *grpc.ClientConn
}

// Options configures New.
type Options struct {
	// Logger receives subscription events (re-subscribing after the stream
	// broke) with keys pubsub and topic; nil discards them.
	Logger *slog.Logger
}

// PubSub is one pub/sub component of a Dapr sidecar.
type PubSub struct {
	name   string
	client Client
	log    *slog.Logger

	mu     sync.Mutex
	closed bool
	life   context.Context // cancelled by Close; ends every subscription
	cancel context.CancelFunc
	wg     sync.WaitGroup // receive loops and in-flight handlers
}

var _ pubsub.PubSub = (*PubSub)(nil)

// New returns the adapter for the sidecar's component name, talking through
// c. Close does not close c.
func New(c Client, name string, opts Options) (*PubSub, error) {
	if c == nil {
		return nil, errors.New("dapr pubsub: nil client")
	}
	if name == "" {
		return nil, errors.New("dapr pubsub: empty component name")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	life, cancel := context.WithCancel(context.Background())
	return &PubSub{name: name, client: c, log: log.With("pubsub", name), life: life, cancel: cancel}, nil
}

// Name returns the component name.
func (p *PubSub) Name() string { return p.name }

// Publish hands msg to the sidecar. An envelope (a JSON object with a
// specversion) goes as application/cloudevents+json, which daprd keeps as
// it is apart from topic, pubsubname and missing trace fields
// (components-contrib FromCloudEvent): the event's id, type, source and time
// survive. A message with metadata rawPayload=true (every message this
// adapter delivers carries it, so dead letters are stored verbatim), and
// anything that is not an envelope, goes as a raw payload.
func (p *PubSub) Publish(ctx context.Context, msg *pubsub.Message) error {
	if p.isClosed() {
		return pubsub.ErrClosed
	}
	contentType, md := encoding(msg.Data, msg.ContentType, msg.Metadata)
	err := p.client.PublishEvent(ctx, p.name, msg.Topic, msg.Data,
		daprc.PublishEventWithContentType(contentType), daprc.PublishEventWithMetadata(md))
	if err != nil {
		return fmt.Errorf("publish to %s/%s: %w", p.name, msg.Topic, err)
	}
	return nil
}

// Close ends every subscription and waits for their handlers; the client
// stays open. Later calls fail with pubsub.ErrClosed.
func (p *PubSub) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	return nil
}

func (p *PubSub) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// encoding is how data goes to the sidecar: its content type, and a copy
// of md with rawPayload=true when it goes as a raw payload (see Publish).
func encoding(data []byte, contentType string, md map[string]string) (string, map[string]string) {
	out := make(map[string]string, len(md)+1)
	maps.Copy(out, md)
	if !rawPayload(out) && isEnvelope(data) {
		return "application/cloudevents+json", out
	}
	out[rawPayloadKey] = "true"
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return contentType, out
}

// isEnvelope reports whether data is a JSON object with a string specversion.
func isEnvelope(data []byte) bool {
	var ce struct {
		SpecVersion *string `json:"specversion"`
	}
	return json.Unmarshal(data, &ce) == nil && ce.SpecVersion != nil
}

// rawPayloadKey is Dapr's metadata key for raw (not enveloped) payloads.
const rawPayloadKey = "rawPayload"

// rawPayload reports whether metadata asks for raw payloads.
func rawPayload(md map[string]string) bool {
	v, err := strconv.ParseBool(md[rawPayloadKey])
	return err == nil && v
}
