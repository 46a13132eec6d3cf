package e2e

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/dapr"
)

// daprConsumers is a pubsub.PubSub for the conformance suite made of dapr
// adapters, one daprd per consumer: with Dapr a consumer group is an app id,
// so each Subscription.Consumer gets its own sidecar (started on first use),
// as two apps would have. Publishes go through a sidecar of their own.
type daprConsumers struct {
	t         *testing.T
	resources string

	mu     sync.Mutex
	closed bool
	pub    *dapr.PubSub
	byApp  map[string]*dapr.PubSub
}

var _ pubsub.PubSub = (*daprConsumers)(nil)

func newDaprConsumers(t *testing.T, resources string) *daprConsumers {
	c := &daprConsumers{t: t, resources: resources, byApp: map[string]*dapr.PubSub{}}
	c.pub = c.adapter("publisher")
	t.Cleanup(func() { c.Close() })
	return c
}

// adapter starts a daprd for appID and opens the orderpubsub adapter on it.
func (c *daprConsumers) adapter(appID string) *dapr.PubSub {
	d := startDaprd(c.t, daprdOptions{appID: appID, resources: c.resources})
	client, err := dapr.Dial(c.t.Context(), d.grpcAddr, "")
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(client.Close)
	ps, err := dapr.New(client, "orderpubsub", dapr.Options{})
	if err != nil {
		c.t.Fatal(err)
	}
	return ps
}

// Publish publishes with rawPayload=true: the suite compares delivered
// bytes with published ones, and an envelope published as
// application/cloudevents+json (the adapter's default) gets topic,
// pubsubname and trace fields from daprd (FromCloudEvent).
func (c *daprConsumers) Publish(ctx context.Context, msg *pubsub.Message) error {
	raw := *msg
	raw.Metadata = map[string]string{"rawPayload": "true"}
	for k, v := range msg.Metadata {
		raw.Metadata[k] = v
	}
	return c.pub.Publish(ctx, &raw)
}

func (c *daprConsumers) Subscribe(ctx context.Context, sub pubsub.Subscription, h pubsub.Handler) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return pubsub.ErrClosed
	}
	ps, ok := c.byApp[sub.Consumer]
	if !ok {
		ps = c.adapter(sub.Consumer)
		c.byApp[sub.Consumer] = ps
	}
	c.mu.Unlock()
	return ps.Subscribe(ctx, sub, h)
}

func (c *daprConsumers) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	errs := []error{c.pub.Close()}
	for _, ps := range c.byApp {
		errs = append(errs, ps.Close())
	}
	return errors.Join(errs...)
}
