package embedded_test

import (
	"testing"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
)

// redisComponent is orderpubsub on Redis Streams at addr. The component
// redelivers a message left pending (handler failed, or runtime gone) once it
// has been pending processingTimeout, checking every redeliverInterval (both
// in ms); the defaults (60s, 15s) are far beyond the suite's Redeliver, so
// they are made short here. The consumerID is left unset: the adapter sets it
// per subscription, as for the shipped components/redis/pubsub.yaml.
func redisComponent(addr string) resources.Component {
	return resources.Component{
		Name: "orderpubsub", Type: "pubsub.redis", Version: "v1", File: "redis.yaml",
		Metadata: map[string]string{
			"redisHost":         addr,
			"processingTimeout": "1000",
			"redeliverInterval": "250",
		},
	}
}

func TestRedisConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite waits for redeliveries; run without -short")
	}
	t.Parallel()
	pubsubtest.Run(t, func(t *testing.T) pubsub.PubSub {
		return open(t, redisComponent(pubsubtest.StartRedis(t)), embedded.Options{})
	})
}
