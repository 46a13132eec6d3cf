package subscriptions

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
)

// decoded is a message made ready for delivery.
type decoded struct {
	event event.Event
	// body is what daprd sends a Dapr app: the stored envelope, or the
	// envelope wrapped around a raw payload.
	body []byte
	// fields is the envelope as daprd's routing rules see it (the variable
	// "event"); set only when asked for.
	fields  map[string]any
	expired bool
}

// decode reads the Dapr envelope of msg into a CloudEvent. With rawPayload
// the data is wrapped the way daprd wraps raw payloads for subscribers. With
// withFields it also keeps the envelope as a map, as daprd decodes it. Every
// error is a *PermanentError: no retry can fix the message.
func decode(msg *pubsub.Message, pubsubName string, rawPayload, withFields bool) (decoded, error) {
	var d decoded
	data := msg.Data
	if rawPayload {
		d.fields = contrib.FromRawPayload(msg.Data, msg.Topic, pubsubName)
		traceFromMetadata(d.fields, msg.Metadata, true)
		b, err := json.Marshal(d.fields)
		if err != nil {
			return decoded{}, delivery.Permanentf("wrap raw payload: %w", err)
		}
		data = b
	} else if withFields {
		if err := json.Unmarshal(data, &d.fields); err != nil || d.fields == nil {
			return decoded{}, delivery.Permanentf("message on %s/%s is not a JSON object: %v", pubsubName, msg.Topic, err)
		}
		traceFromMetadata(d.fields, msg.Metadata, false)
	}
	// json.Valid and the SDK's own decoder, rather than json.Unmarshal,
	// which would scan the envelope twice more to find the decoder.
	if !json.Valid(data) {
		var why json.RawMessage // json.Unmarshal says where it is broken
		return decoded{}, delivery.Permanentf("message on %s/%s is not a valid CloudEvent: %w", pubsubName, msg.Topic, json.Unmarshal(data, &why))
	}
	if err := d.event.UnmarshalJSON(data); err != nil {
		return decoded{}, delivery.Permanentf("message on %s/%s is not a valid CloudEvent: %w", pubsubName, msg.Topic, err)
	}
	if err := d.event.Validate(); err != nil {
		return decoded{}, delivery.Permanentf("message on %s/%s is not a valid CloudEvent: %w", pubsubName, msg.Topic, err)
	}
	d.expired = expired(d.event)
	d.body = data
	return d, nil
}

// traceFromMetadata completes the envelope's trace fields from message
// metadata the way daprd does before routing: always for raw payloads,
// otherwise only where the envelope has none.
func traceFromMetadata(fields map[string]any, md map[string]string, raw bool) {
	set := func(key, v string) {
		if _, has := fields[key]; raw || !has {
			fields[key] = v
		}
	}
	if v, ok := md[contrib.TraceIDField]; ok {
		set(contrib.TraceIDField, v)
	}
	if v, ok := md[contrib.TraceParentField]; ok {
		if _, has := fields[contrib.TraceParentField]; raw || !has {
			fields[contrib.TraceParentField] = v
			fields[contrib.TraceIDField] = v // traceparent supersedes traceid
		}
	}
	if v, ok := md[contrib.TraceStateField]; ok {
		set(contrib.TraceStateField, v)
	}
}

// expired applies Dapr's rule (contrib.HasExpired) to the event's
// "expiration" extension: an RFC 3339 time in the past.
func expired(ev event.Event) bool {
	exp, ok := ev.Extensions()[contrib.ExpirationField]
	if !ok {
		return false
	}
	s, err := types.ToString(exp)
	if err != nil {
		return false
	}
	t, err := time.Parse(time.RFC3339, s)
	return err == nil && t.Before(time.Now())
}

// rawPayload reports whether subscription metadata asks for raw payloads.
func rawPayload(meta map[string]string) bool {
	v, err := strconv.ParseBool(meta["rawPayload"])
	return err == nil && v
}
