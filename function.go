// Package function is the binding as a Knative Function: deployed next to a
// Dapr sidecar (min-scale 1), it opens a streaming subscription for every
// Subscription resource it is given and delivers each message to the
// function the route names, as an HTTP CloudEvent, with the outcome table of
// package subscriptions. Functions then scale to zero: Knative wakes them on HTTP.
//
// It is also a way in for curl: Handle publishes the CloudEvent it receives
// to the topic named by its topic / pubsubname extensions (or TOPIC /
// PUBSUB_NAME), keeping the event's id, type and source.
//
// The sidecar must not also hold a declarative Subscription that routes to
// this function: daprd would deliver those messages to Handle, which would
// publish them again.
package function

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/funcd/funcd/runtime/pubsub"
)

// Function is the binding instance func-go serves.
type Function struct {
	dial dialFunc

	run atomic.Pointer[running] // set once subscriptions are live; nil after Stop

	mu      sync.Mutex
	cancel  context.CancelFunc // ends a Start still connecting
	stopped bool
}

// New returns the binding; Start connects it. func-go calls New once.
func New() *Function {
	return &Function{dial: dialSidecar}
}

// Handle publishes e to the topic it names and answers 200 with no body.
// Without a topic, or naming a pub/sub component the binding was not
// configured with, it answers 400; before Start has connected, 503.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	r := f.run.Load()
	if r == nil {
		return nil, cehttp.NewResult(http.StatusServiceUnavailable, "binding is not ready: not connected to the Dapr sidecar")
	}
	name := extension(e, "pubsubname", r.cfg.PubsubName)
	topic := extension(e, "topic", r.cfg.Topic)
	if topic == "" {
		return nil, cehttp.NewResult(http.StatusBadRequest, "event %s names no topic: set the topic extension (and pubsubname, default %s)", e.ID(), r.cfg.PubsubName)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return nil, cehttp.NewResult(http.StatusBadRequest, "encode event %s: %s", e.ID(), err)
	}
	ps, ok := r.comps.Get(name)
	if !ok {
		return nil, cehttp.NewResult(http.StatusBadRequest, "event %s names pub/sub component %q; the binding publishes only to %s (PUBSUB_NAME and the components its subscriptions name)",
			e.ID(), name, strings.Join(r.comps.names(), ", "))
	}
	if err := ps.Publish(ctx, &pubsub.Message{Topic: topic, Data: data}); err != nil {
		r.log.Warn("publish failed", "ce.id", e.ID(), "pubsub", name, "topic", topic, "error", err)
		return nil, cehttp.NewResult(http.StatusBadGateway, "publish %s to %s/%s: %s", e.ID(), name, topic, err)
	}
	r.log.Debug("published", "ce.id", e.ID(), "ce.type", e.Type(), "pubsub", name, "topic", topic)
	return nil, nil
}

// extension returns e's string extension name, or def.
func extension(e event.Event, name, def string) string {
	if v, ok := e.Extensions()[name]; ok {
		if s := fmt.Sprint(v); s != "" {
			return s
		}
	}
	return def
}
