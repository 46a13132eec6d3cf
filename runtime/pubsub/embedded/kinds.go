package embedded

import (
	"errors"
	"maps"
	"slices"
	"strings"

	contrib "github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/kit/logger"
	"github.com/nats-io/nats.go"

	inmemory "github.com/dapr/components-contrib/pubsub/in-memory"
)

// kind describes how one component type is opened.
type kind struct {
	open func(logger.Logger) contrib.PubSub
	// consumerKey is the component metadata key naming the durable
	// consumer / consumer group. When set, each subscription opens its own
	// component instance with that key set (unless the Component sets it),
	// so two subscriptions on one topic each receive every message.
	consumerKey string
	// sanitize makes a consumer name valid for the broker.
	sanitize func(string) string
	// closeOnEnd closes a subscription's own instance when the
	// subscription ends, rather than on Close: a Kafka consumer that stops
	// consuming stays in its group until its session times out, holding
	// back the group's next member. (Redis's Close drops acknowledgements
	// still in flight, so its instances wait for Close.)
	closeOnEnd bool
	// tooLarge reports a publish error that says the message is larger
	// than the broker takes: no retry will store it.
	tooLarge func(error) bool
	// stillBound reports a subscribe error that says another subscription
	// holds the consumer. The broker releases a consumer some time after
	// its subscription ended, so Subscribe tries again for a while.
	stillBound func(error) bool
}

// kinds lists the component types every build supports.
var kinds = map[string]kind{
	"pubsub.jetstream": {open: jetstream.NewJetStream, consumerKey: "durableName", sanitize: natsName, tooLarge: natsTooLarge, stillBound: natsBound},
	"pubsub.in-memory": {open: inmemory.New},
}

// optional lists the component types a build may leave out. Each returns
// the kind, or the build tag that left it out (kind_kafka*.go,
// kind_redis*.go): the Kafka and Redis components bring in some 280
// packages (their cloud providers' authentication SDKs), a minute of a
// first build on a small machine, so make build leaves them out unless
// the Components in components/ use them.
var optional = map[string]func() (k kind, omittedBy string){
	"pubsub.kafka": kafkaKind,
	"pubsub.redis": redisKind,
}

// lookup returns the kind of component type typ. omittedBy names the build
// tag when this build left typ out.
func lookup(typ string) (k kind, ok bool, omittedBy string) {
	if k, ok := kinds[typ]; ok {
		return k, true, ""
	}
	if f, ok := optional[typ]; ok {
		k, tag := f()
		return k, tag == "", tag
	}
	return kind{}, false, ""
}

// Types lists the component types this adapter can open, sorted.
func Types() []string {
	types := slices.Collect(maps.Keys(kinds))
	for typ := range optional {
		if _, ok, _ := lookup(typ); ok {
			types = append(types, typ)
		}
	}
	slices.Sort(types)
	return types
}

// natsTooLarge: the server's max_payload (1 MB by default) refused it.
func natsTooLarge(err error) bool { return errors.Is(err, nats.ErrMaxPayload) }

// natsBound: the durable push consumer has a subscriber (nats.go's
// processConsInfo, which has no error value of its own to compare with).
// The server clears that after the subscriber unsubscribes, on the
// consumer's own goroutine, so a subscription that ended a moment ago can
// still hold it.
func natsBound(err error) bool {
	return strings.Contains(err.Error(), "consumer is already bound to a subscription")
}

// natsName maps s to a valid JetStream consumer name: no whitespace, '.',
// wildcards or path separators (the server stores consumers in folders).
func natsName(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == '/' || r == '\\' || r > '~' {
			return '_'
		}
		return r
	}, s)
}
