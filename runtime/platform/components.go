package platform

import (
	"context"
	"fmt"
	"path/filepath"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/inputs"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// openComponents starts the embedded broker when a component needs it and
// opens every pub/sub component.
func (p *Platform) openComponents(ctx context.Context, set *resources.Set) error {
	p.pubsubs = pubsub.NewRegistry()
	for _, c := range set.Components {
		if c.Category() == "bindings" && inputs.IsInput(c) {
			continue // started with the input bindings
		}
		if c.Category() != "pubsub" {
			p.log.Warn("component ignored: only pubsub components and input bindings "+fmt.Sprint(inputs.Types())+" run here",
				"component", c.Name, "type", c.Type, "file", c.File)
			continue
		}
		if c.Type == "pubsub.jetstream" && c.Metadata["natsURL"] == "" && p.broker == nil {
			b, err := broker.Start(broker.Config{StoreDir: filepath.Join(p.cfg.DataDir, "jetstream")})
			if err != nil {
				return err
			}
			p.broker = b
			p.log.Info("embedded broker started", "url", b.URL(), "store", p.cfg.DataDir)
		}
		opts := embedded.Options{AppID: "funcd", Logger: p.log}
		if p.broker != nil {
			opts.Broker = p.broker
		}
		ps, err := embedded.Open(ctx, c, opts)
		if err != nil {
			return err
		}
		if err := p.pubsubs.Add(c.Name, c.Type, ps); err != nil {
			return fmt.Errorf("%s: %w", c.File, err)
		}
	}
	return nil
}

// sidecarComponents lets the publish API reach the open components.
type sidecarComponents struct{ reg *pubsub.Registry }

var (
	_ sidecar.Components = sidecarComponents{}
	_ sidecar.Lister     = sidecarComponents{}
)

func (s sidecarComponents) PubSub(name string) (sidecar.Publisher, bool) {
	ps, ok := s.reg.Get(name)
	if !ok {
		return nil, false
	}
	return publisher{ps}, true
}

func (s sidecarComponents) ListPubSubs() []sidecar.ComponentInfo {
	var out []sidecar.ComponentInfo
	for _, n := range s.reg.Names() {
		out = append(out, sidecar.ComponentInfo{Name: n, Type: s.reg.Type(n), Version: "v1"})
	}
	return out
}

// publisher adapts the pub/sub port to the publish API.
type publisher struct{ ps pubsub.PubSub }

func (p publisher) Publish(ctx context.Context, req *contrib.PublishRequest) error {
	msg := &pubsub.Message{Topic: req.Topic, Data: req.Data, Metadata: req.Metadata}
	if req.ContentType != nil {
		msg.ContentType = *req.ContentType
	}
	return p.ps.Publish(ctx, msg)
}
