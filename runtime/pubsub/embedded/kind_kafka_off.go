//go:build funcd_nokafka

package embedded

// kafkaKind: this build leaves pubsub.kafka out; see optional.
func kafkaKind() (kind, string) { return kind{}, "funcd_nokafka" }
