package subscriptions

import (
	"context"
	"fmt"

	"github.com/cloudevents/sdk-go/v2/event"
	"go.opentelemetry.io/otel/attribute"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/tracing"
)

// process settles one message: nil acknowledges it, an error hands it back
// to the broker for a later redelivery.
func (b *Binding) process(ctx context.Context, s *subscription, msg *pubsub.Message) error {
	grpcApp := b.cfg.App != nil && b.cfg.App.GRPC != nil
	d, err := decode(msg, s.res.PubsubName, s.raw, s.router.needsFields() || grpcApp)
	if err != nil {
		return b.deadLetter(ctx, s, msg, "", err)
	}
	id := d.event.ID()
	if d.expired {
		return b.deadLetter(ctx, s, msg, id, fmt.Errorf("event %s expired before delivery", id))
	}
	fn, routed, err := s.router.route(d.fields)
	if err != nil {
		return b.deadLetter(ctx, s, msg, id, err)
	}
	if !routed {
		return b.unrouted(ctx, s, msg, id)
	}
	if bt := s.batchers[fn]; bt != nil {
		return bt.add(&item{msg: msg, ev: &d.event, fields: d.fields, done: make(chan error, 1)})
	}
	release, err := s.acquire(ctx)
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", id, fn, err)
	}
	defer release()
	ctx, span := b.startProcess(ctx, s, msg, &d.event, fn)
	var a delivery.Answer
	switch {
	case grpcApp:
		a = b.deliverer.DeliverPayload(ctx, fn, appGRPCEvent{client: b.cfg.App.GRPC, fields: d.fields, topic: msg.Topic,
			pubsub: s.res.PubsubName, route: fn, metadata: appMetadata(msg.Metadata, s.res.PubsubName), token: b.cfg.App.Token}, s.policies[fn])
	case b.cfg.App != nil:
		a = b.deliverer.DeliverPayload(ctx, fn, b.appEvent(msg, &d, fn, s.res.PubsubName), s.policies[fn])
	default:
		a = b.deliverer.Deliver(ctx, fn, &d.event, s.policies[fn])
	}
	err = b.settle(ctx, s, fn, []*pubsub.Message{msg}, []*event.Event{&d.event}, a)[0]
	endProcess(span, a, err)
	return err
}

// settle carries out a delivery's final outcome for the messages it carried
// and returns, per message, nil to acknowledge it or an error to hand it back
// to the broker.
func (b *Binding) settle(ctx context.Context, s *subscription, fn string, msgs []*pubsub.Message, evs []*event.Event, a delivery.Answer) []error {
	errs := make([]error, len(msgs))
	if a.Attempts > 1 {
		s.counters.retries.Add(int64(a.Attempts - 1))
	}
	switch a.Outcome {
	case delivery.Ack:
		if err := b.reply(ctx, s, fn, evs[0], a); err != nil {
			if !pubsub.Permanent(err) {
				fill(errs, err) // the broker delivers it again; the reply may be stored then
				return errs
			}
			// No redelivery would store this reply (too large, invalid
			// topic): dead-letter the trigger rather than loop forever.
			for i, m := range msgs {
				errs[i] = b.deadLetter(ctx, s, m, evs[i].ID(), err)
			}
			return errs
		}
		s.counters.delivered.Add(int64(len(msgs)))
		return errs
	case delivery.DeadLetter:
		for i, m := range msgs {
			errs[i] = b.deadLetter(ctx, s, m, evs[i].ID(), a.Cause())
		}
		return errs
	case delivery.Drop:
		b.log.Error("dropped: the app answered 404 (gRPC: Unimplemented); daprd does not dead-letter it", "subscription", s.res.Name, "topic", s.res.Topic,
			"ce.id", evs[0].ID(), "error", a.Cause())
		s.counters.dropped.Add(int64(len(msgs)))
		return errs
	case delivery.Retry:
		b.log.WarnContext(ctx, "retries spent", "subscription", s.res.Name, "function", fn, "ce.id", evs[0].ID(),
			"attempts", a.Attempts, "error", a.Cause())
		if s.res.DeadLetterTopic != "" {
			for i, m := range msgs {
				errs[i] = b.deadLetter(ctx, s, m, evs[i].ID(), a.Cause())
			}
			return errs
		}
	}
	fill(errs, fmt.Errorf("deliver %s to %s: %w", evs[0].ID(), fn, a.Cause()))
	return errs
}

func fill(errs []error, err error) {
	for i := range errs {
		errs[i] = err
	}
}

// deadLetter publishes the original message to the subscription's
// dead-letter topic, or drops it with an error log when there is none. The
// message is acknowledged only when the dead-letter copy is stored.
func (b *Binding) deadLetter(ctx context.Context, s *subscription, msg *pubsub.Message, id string, cause error) error {
	log := b.log.With("subscription", s.res.Name, "topic", s.res.Topic, "ce.id", id)
	if s.res.DeadLetterTopic == "" {
		log.ErrorContext(ctx, "dropped: permanent failure and no deadLetterTopic", "error", cause)
		note(ctx, tracing.EventDropped)
		s.counters.dropped.Add(1)
		return nil
	}
	dl := &pubsub.Message{Topic: s.res.DeadLetterTopic, Data: msg.Data, Metadata: msg.Metadata, ContentType: msg.ContentType}
	if err := s.ps.Publish(ctx, dl); err != nil {
		if pubsub.Permanent(err) {
			log.ErrorContext(ctx, "dropped: the dead-letter topic refuses it for good", "dead_letter_topic", s.res.DeadLetterTopic,
				"error", err, "cause", cause)
			s.counters.dropped.Add(1)
			return nil
		}
		return fmt.Errorf("dead-letter %s to %s: %w", id, s.res.DeadLetterTopic, err)
	}
	log.WarnContext(ctx, "dead-lettered", "dead_letter_topic", s.res.DeadLetterTopic, "error", cause)
	note(ctx, tracing.EventDeadLettered, attribute.String("funcd.dead_letter_topic", s.res.DeadLetterTopic))
	s.counters.deadLettered.Add(1)
	return nil
}

// unrouted handles an event no routing rule matched, as daprd does: it goes
// to the dead-letter topic when there is one, and is dropped otherwise.
func (b *Binding) unrouted(ctx context.Context, s *subscription, msg *pubsub.Message, id string) error {
	if s.res.DeadLetterTopic != "" {
		return b.deadLetter(ctx, s, msg, id, fmt.Errorf("event %s matched no route", id))
	}
	b.log.Debug("dropped: no route matched", "subscription", s.res.Name, "topic", s.res.Topic, "ce.id", id)
	s.counters.dropped.Add(1)
	return nil
}

// appMetadata is a message's metadata as daprd hands it to an app: with
// the component's name added as pubsubName.
func appMetadata(md map[string]string, pubsubName string) map[string]string {
	out := make(map[string]string, len(md)+1)
	for k, v := range md {
		out[k] = v
	}
	out[metaPubSubName] = pubsubName
	return out
}

// metaPubSubName is the metadata key daprd adds to every message it
// delivers to an app (rtpubsub.MetadataKeyPubSub).
const metaPubSubName = "pubsubName"

// appEvent is the message as daprd delivers it to a Dapr app on path.
func (b *Binding) appEvent(msg *pubsub.Message, d *decoded, path, pubsubName string) appEvent {
	ext := d.event.Extensions()
	tp, _ := ext["traceparent"].(string)
	ts, _ := ext["tracestate"].(string)
	return appEvent{body: d.body, route: path, ceID: d.event.ID(), metadata: appMetadata(msg.Metadata, pubsubName),
		trace: [2]string{tp, ts}, token: b.cfg.App.Token}
}
