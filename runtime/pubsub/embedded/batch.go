package embedded

import (
	"context"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
	"github.com/nats-io/nats.go"
)

// ackWait bounds the wait for a batch's acknowledgements, as nats.go's
// default JetStream timeout bounds a single publish.
const ackWait = 5 * time.Second

// publishBatch stores entries on topic in order, pipelined: every message is
// written to the in-process connection before the first acknowledgement is
// awaited, instead of one round trip per entry. It returns each entry's
// error, nil for the stored ones.
func (p *inProcessPublisher) publishBatch(ctx context.Context, topic string, entries []contrib.BulkMessageEntry) []error {
	errs := make([]error, len(entries))
	js, err := p.jetStream()
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	futures := make([]nats.PubAckFuture, len(entries))
	for i, e := range entries {
		futures[i], errs[i] = js.PublishAsync(topic, e.Event, msgID("", e.Event)...)
	}
	ctx, cancel := context.WithTimeout(ctx, ackWait)
	defer cancel()
	for i, f := range futures {
		if f != nil {
			errs[i] = awaitAck(ctx, f)
		}
	}
	return errs
}

func awaitAck(ctx context.Context, f nats.PubAckFuture) error {
	select {
	case <-f.Ok():
		return nil
	case err := <-f.Err():
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// msgID is the publish option that deduplicates data by its CloudEvent id:
// id when the publisher knows it, else read from data.
func msgID(id string, data []byte) []nats.PubOpt {
	if id == "" {
		id = cloudEventID(data)
	}
	if id == "" {
		return nil
	}
	return []nats.PubOpt{nats.MsgId(id)}
}
