//go:build funcd_nokafka

package embedded

func init() { omitted["pubsub.kafka"] = "funcd_nokafka" }
