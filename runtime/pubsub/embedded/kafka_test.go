package embedded_test

import (
	"testing"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
	"github.com/funcd/funcd/runtime/resources"
)

// kafkaComponent is orderpubsub on Kafka at brokers. The consumerGroup is
// left unset: the adapter sets it per subscription, as for the shipped
// components/kafka/pubsub.yaml. A failed message is retried in the consumer
// (Dapr's kafka component retries by default, every backOffDuration, 5s by
// default): 200ms keeps the suite well inside Redeliver.
func kafkaComponent(brokers string) resources.Component {
	return resources.Component{
		Name: "orderpubsub", Type: "pubsub.kafka", Version: "v1", File: "kafka.yaml",
		Metadata: map[string]string{
			"brokers":         brokers,
			"clientId":        "funcd-test",
			"authType":        "none",
			"initialOffset":   "oldest",
			"disableTls":      "true",
			"backOffDuration": "200ms",
		},
	}
}

func TestKafkaConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite waits for redeliveries; run without -short")
	}
	if pubsubtest.RunWithoutRace(t, pubsubtest.KafkaRaces) {
		return
	}
	t.Parallel()
	pubsubtest.Run(t, func(t *testing.T) pubsub.PubSub {
		return open(t, kafkaComponent(pubsubtest.StartKafka(t, 1)), embedded.Options{})
	})
}
