package embedded

import (
	"strings"

	contrib "github.com/dapr/components-contrib/pubsub"
	"github.com/dapr/components-contrib/pubsub/jetstream"
	"github.com/dapr/components-contrib/pubsub/kafka"
	"github.com/dapr/components-contrib/pubsub/redis"
	"github.com/dapr/kit/logger"

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
}

// kinds lists the supported component types.
var kinds = map[string]kind{
	"pubsub.jetstream": {open: jetstream.NewJetStream, consumerKey: "durableName", sanitize: natsName},
	"pubsub.redis":     {open: redis.NewRedisStreams, consumerKey: "consumerID"},
	"pubsub.kafka":     {open: kafka.NewKafka, consumerKey: "consumerGroup"},
	"pubsub.in-memory": {open: inmemory.New},
}

// Types lists the component types this adapter can open.
func Types() []string {
	return []string{"pubsub.in-memory", "pubsub.jetstream", "pubsub.kafka", "pubsub.redis"}
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
