package resources

import (
	"fmt"
	"strconv"
	"time"
)

// Redelivery is how long a pub/sub component waits for a message it handed
// over to be acknowledged before it hands the message out again. A delivery
// that takes longer is duplicated while it is still running.
type Redelivery struct {
	// After is the redelivery timeout; 0 means the component does not
	// redeliver on a timer.
	After time.Duration
	// Setting says where After comes from: a metadata name, or what fixes
	// the value when no metadata sets it.
	Setting string
	// Key is the metadata name that changes After; empty when none does.
	Key string
}

// Redelivery defaults of components-contrib v1.16.1.
const (
	// DefaultRedisProcessingTimeout is pubsub.redis' processingTimeout
	// (common/component/redis ParseClientFromProperties).
	DefaultRedisProcessingTimeout = 60 * time.Second
	// DefaultJetStreamAckWait is the NATS server's consumer ack wait, which
	// pubsub.jetstream keeps when ackWait is unset.
	DefaultJetStreamAckWait = 30 * time.Second
	// KafkaRebalanceTimeout is sarama's Consumer.Group.Rebalance.Timeout,
	// which pubsub.kafka neither changes nor reads from metadata: once a
	// rebalance starts, a member still busy with a message is dropped from
	// the group after this long, and the partition's next owner reads on
	// from the last committed offset, the busy message included.
	KafkaRebalanceTimeout = 60 * time.Second
)

// Redelivery returns the component's redelivery timeout as
// components-contrib v1.16.1 reads its metadata. known is false for types
// whose redelivery is not modelled here (anything but pubsub.redis,
// pubsub.jetstream, pubsub.kafka and pubsub.in-memory).
func (c Component) Redelivery() (r Redelivery, known bool, err error) {
	switch c.Type {
	case "pubsub.redis":
		r, err = c.redisRedelivery()
		return r, true, err
	case "pubsub.jetstream":
		r = Redelivery{After: DefaultJetStreamAckWait, Setting: "ackWait (unset: the NATS server's default)", Key: "ackWait"}
		if v := c.Metadata["ackWait"]; v != "" {
			d, err := parseDuration(v)
			if err != nil || d < 0 {
				return r, true, fmt.Errorf("metadata ackWait: %q is not a duration such as 30s", v)
			}
			if d > 0 {
				r = Redelivery{After: d, Setting: "ackWait", Key: "ackWait"}
			}
		}
		return r, true, nil
	case "pubsub.kafka":
		return Redelivery{After: KafkaRebalanceTimeout, Setting: "the consumer group's rebalance timeout (fixed: no metadata sets it)"}, true, nil
	case "pubsub.in-memory":
		return Redelivery{Setting: "none (in-memory never redelivers)"}, true, nil
	}
	return Redelivery{}, false, nil
}

// redisRedelivery reads processingTimeout the way components-contrib does:
// a bare number is milliseconds, anything else a Go duration. Redelivery is
// off when processingTimeout or redeliverInterval is 0; redeliverInterval
// is read only as a number of milliseconds (a "15s" is ignored and the
// default stays).
func (c Component) redisRedelivery() (Redelivery, error) {
	r := Redelivery{After: DefaultRedisProcessingTimeout, Setting: "processingTimeout (unset: the default)", Key: "processingTimeout"}
	if v := c.Metadata["processingTimeout"]; v != "" {
		d, err := parseDuration(v)
		if err != nil || d < 0 {
			return r, fmt.Errorf("metadata processingTimeout: %q is not a duration such as 60s", v)
		}
		r = Redelivery{After: d, Setting: "processingTimeout", Key: "processingTimeout"}
	}
	if v := c.Metadata["redeliverInterval"]; v != "" {
		if ms, err := strconv.ParseUint(v, 10, 64); err == nil && ms == 0 {
			return Redelivery{Setting: "none (redeliverInterval 0 turns redelivery off)"}, nil
		}
	}
	if r.After == 0 {
		r.Setting = "none (processingTimeout 0 turns redelivery off)"
	}
	return r, nil
}
