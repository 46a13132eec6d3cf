package platform

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"

	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/inputs"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
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
			b, err := broker.Start(broker.Config{StoreDir: filepath.Join(p.cfg.DataDir, "jetstream"), MaxTopics: p.cfg.MaxTopics, Sync: p.cfg.Fsync})
			if err != nil {
				return err
			}
			p.broker = b
			p.log.Info("embedded broker started", "url", b.URL(), "store", p.cfg.DataDir, "fsync", cmp.Or(p.cfg.Fsync, broker.DefaultSync()).String())
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
