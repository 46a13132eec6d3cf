//go:build !funcd_nokafka

package embedded

import "github.com/dapr/components-contrib/pubsub/kafka"

func init() {
	kinds["pubsub.kafka"] = kind{open: kafka.NewKafka, consumerKey: "consumerGroup", closeOnEnd: true}
}
