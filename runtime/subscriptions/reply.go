package subscriptions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	contrib "github.com/dapr/components-contrib/pubsub"
	"go.opentelemetry.io/otel/attribute"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/tracing"
)

// reply publishes the CloudEvents in an acknowledged answer to the
// subscription's reply topic, before the message is acknowledged; a failed
// publish returns an error so the broker delivers the message again. Without
// a reply topic, replies are ignored. An answer that claims to be a
// CloudEvent but is not a valid one is logged and dropped: the function
// accepted the event, and delivering it again would not mend the reply.
func (b *Binding) reply(ctx context.Context, s *subscription, fn string, trigger *event.Event, a delivery.Answer) error {
	evs, err := replies(ctx, a.Header, a.Body)
	if err == nil && len(evs) == 0 {
		return nil // most answers carry none: no logger to make for them
	}
	log := b.log.With("subscription", s.res.Name, "function", fn, "ce.id", trigger.ID())
	switch {
	case err != nil:
		log.ErrorContext(ctx, "reply dropped: not a valid CloudEvent", "error", err)
		return nil
	case s.replyTopic == "":
		log.Debug("reply ignored: the subscription has no replyTopic", "replies", len(evs))
		return nil
	}
	for i := range evs {
		if err := publishReply(ctx, s, trigger, &evs[i]); err != nil {
			return fmt.Errorf("reply %s to %s: %w", evs[i].ID(), s.replyTopic, err)
		}
	}
	log.DebugContext(ctx, "replied", "reply_topic", s.replyTopic, "replies", len(evs))
	note(ctx, tracing.EventReply, attribute.String("funcd.reply_topic", s.replyTopic), attribute.Int("funcd.replies", len(evs)))
	return nil
}

// replies returns the CloudEvents an answer carries: binary mode (ce-*
// headers), structured mode, or a batch. An answer without one has none.
func replies(ctx context.Context, h http.Header, body []byte) ([]event.Event, error) {
	if h == nil {
		return nil, nil
	}
	msg := cehttp.NewMessage(h, io.NopCloser(bytes.NewReader(body)))
	defer msg.Finish(nil)
	var evs []event.Event
	switch msg.ReadEncoding() {
	case binding.EncodingBinary, binding.EncodingStructured:
		ev, err := binding.ToEvent(ctx, msg)
		if err != nil {
			return nil, err
		}
		evs = append(evs, *ev)
	case binding.EncodingBatch:
		if err := json.Unmarshal(body, &evs); err != nil {
			return nil, err
		}
	default:
		return nil, nil
	}
	for i := range evs {
		if err := evs[i].Validate(); err != nil {
			return nil, err
		}
	}
	return evs, nil
}

// publishReply publishes ev on the reply topic as daprd publishes a caller's
// CloudEvent (contrib.FromCloudEvent): the event is kept, and topic,
// pubsubname, time and the trigger's trace context are added.
func publishReply(ctx context.Context, s *subscription, trigger, ev *event.Event) error {
	raw, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	tp, _ := trigger.Extensions()[contrib.TraceParentField].(string)
	ts, _ := trigger.Extensions()[contrib.TraceStateField].(string)
	env, err := contrib.FromCloudEvent(raw, s.replyTopic, s.res.PubsubName, tp, ts)
	if err != nil {
		return err
	}
	data, err := json.Marshal(env)
	if err != nil {
		return err
	}
	return s.ps.Publish(ctx, &pubsub.Message{Topic: s.replyTopic, Data: data})
}
