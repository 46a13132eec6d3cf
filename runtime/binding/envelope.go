package binding

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/cloudevents/sdk-go/v2/types"
	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/pubsub"
)

// decoded is a message made ready for delivery.
type decoded struct {
	event   event.Event
	expired bool
}

// decode reads the Dapr envelope of msg into a CloudEvent. With rawPayload
// the data is wrapped the way daprd wraps raw payloads for subscribers.
func decode(msg *pubsub.Message, pubsubName string, rawPayload bool) (decoded, error) {
	data := msg.Data
	if rawPayload {
		env := contrib.FromRawPayload(msg.Data, msg.Topic, pubsubName)
		b, err := json.Marshal(env)
		if err != nil {
			return decoded{}, permanentf("wrap raw payload: %w", err)
		}
		data = b
	}
	var ev event.Event
	if err := json.Unmarshal(data, &ev); err != nil {
		return decoded{}, permanentf("message on %s/%s is not a valid CloudEvent: %w", pubsubName, msg.Topic, err)
	}
	if err := ev.Validate(); err != nil {
		return decoded{}, permanentf("message on %s/%s is not a valid CloudEvent: %w", pubsubName, msg.Topic, err)
	}
	return decoded{event: ev, expired: expired(ev)}, nil
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
