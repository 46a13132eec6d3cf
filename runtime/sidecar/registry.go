package sidecar

import (
	"github.com/funcd/funcd/runtime/pubsub"
)

// FromRegistry serves the publish API from the open pub/sub components of
// reg: the publish API calls the pub/sub port directly.
func FromRegistry(reg *pubsub.Registry) Components { return registry{reg} }

type registry struct{ reg *pubsub.Registry }

var (
	_ Components = registry{}
	_ Lister     = registry{}
)

func (r registry) PubSub(name string) (pubsub.Publisher, bool) {
	ps, ok := r.reg.Get(name)
	if !ok {
		return nil, false
	}
	return ps, true
}

func (r registry) ListPubSubs() []ComponentInfo {
	names := r.reg.Names()
	out := make([]ComponentInfo, 0, len(names))
	for _, n := range names {
		out = append(out, ComponentInfo{Name: n, Type: r.reg.Type(n), Version: "v1"})
	}
	return out
}
