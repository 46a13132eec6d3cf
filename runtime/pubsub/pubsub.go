package pubsub

import (
	"context"
	"errors"
)

// Message is one message on a topic.
type Message struct {
	Topic string
	// Data is the CloudEvent envelope JSON, or the raw payload when the
	// publisher asked for rawPayload.
	Data     []byte
	Metadata map[string]string
	// ContentType is set when the component knows it (raw payloads).
	ContentType string
	// ID is the CloudEvent id of the envelope in Data, when the publisher
	// built it and it is a string: an adapter that deduplicates by it (the
	// embedded JetStream publisher) then need not parse Data again. Empty:
	// unknown, read it from Data.
	ID string
}

// PublishTimeKey is the Message.Metadata key under which an adapter that
// knows when the broker stored a message gives that time (RFC 3339 with
// nanoseconds); the binding measures the time in the topic from it. Dapr's
// envelope time has whole seconds only.
const PublishTimeKey = "funcd.publishTime"

// Handler processes one delivered message. Returning nil acknowledges it;
// an error asks the broker to deliver it again later.
type Handler func(ctx context.Context, msg *Message) error

// Subscription asks for the messages of one topic.
type Subscription struct {
	Topic string
	// Consumer names the durable consumer (consumer group) so a restart
	// resumes where the last run acknowledged. Subscriptions with different
	// consumers each receive every message.
	Consumer string
	// Metadata is the Subscription resource's metadata (e.g. rawPayload).
	Metadata map[string]string
	// Stopped, when set, is called once the subscription has stopped
	// (its ctx is done, or Close): the handler is not running and is
	// called no more, and what the adapter closes at a subscription's end
	// (a Dapr stream, a Kafka consumer leaving its group) is closed. It
	// is how a caller waits for a subscription to wind down, e.g. before
	// the same Consumer subscribes again. It is not called when Subscribe
	// fails.
	Stopped func()
}

// PubSub is what the binding and the publish API need from a broker.
type PubSub interface {
	Publisher
	// Subscribe starts delivering messages to h and returns once the
	// subscription is live. Delivery stops when ctx is done or on Close;
	// sub.Stopped, when set, is called once it has stopped.
	Subscribe(ctx context.Context, sub Subscription, h Handler) error
	// Close stops every subscription and releases the connection.
	Close() error
}

// Errors an adapter wraps so callers can tell what no retry will fix.
var (
	// ErrClosed is returned by calls on a closed PubSub.
	ErrClosed = errors.New("pubsub: closed")
	// ErrTooLarge: the message is larger than the component stores.
	ErrTooLarge = errors.New("message too large for the broker")
	// ErrInvalidTopic: the component cannot have a topic of that name.
	ErrInvalidTopic = errors.New("invalid topic")
	// ErrTopicLimit: the topic would be one more than the broker allows.
	ErrTopicLimit = errors.New("topic limit reached")
)

// Permanent reports whether err is one no retry can fix: a message too
// large, an invalid topic, the bound on topics reached.
func Permanent(err error) bool {
	return errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalidTopic) || errors.Is(err, ErrTopicLimit)
}
