//go:build !funcd_nokafka

package embedded

import "github.com/dapr/components-contrib/pubsub/kafka"

// kafkaKind is pubsub.kafka; see optional.
func kafkaKind() (kind, string) {
	return kind{open: kafka.NewKafka, consumerKey: "consumerGroup", closeOnEnd: true}, ""
}
