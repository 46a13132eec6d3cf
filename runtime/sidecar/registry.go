package sidecar

import (
	"context"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/pubsub"
)

// FromRegistry serves the publish API from the open pub/sub components of
// reg, through the pub/sub port.
func FromRegistry(reg *pubsub.Registry) Components { return registry{reg} }

type registry struct{ reg *pubsub.Registry }

var (
	_ Components = registry{}
	_ Lister     = registry{}
)

func (r registry) PubSub(name string) (Publisher, bool) {
	ps, ok := r.reg.Get(name)
	if !ok {
		return nil, false
	}
	return portPublisher{ps}, true
}

func (r registry) ListPubSubs() []ComponentInfo {
	names := r.reg.Names()
	out := make([]ComponentInfo, 0, len(names))
	for _, n := range names {
		out = append(out, ComponentInfo{Name: n, Type: r.reg.Type(n), Version: "v1"})
	}
	return out
}

// portPublisher hands what the publish API encoded to the pub/sub port.
type portPublisher struct{ ps pubsub.PubSub }

func (p portPublisher) Publish(ctx context.Context, req *contrib.PublishRequest) error {
	msg := &pubsub.Message{Topic: req.Topic, Data: req.Data, Metadata: req.Metadata}
	if req.ContentType != nil {
		msg.ContentType = *req.ContentType
	}
	return p.ps.Publish(ctx, msg)
}
