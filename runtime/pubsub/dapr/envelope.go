package dapr

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/dapr/components-contrib/contenttype"
	contrib "github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
)

// envelope rebuilds the CloudEvent envelope daprd split into a streamed
// TopicEventRequest (dapr pkg/runtime/pubsub GRPCEnvelopeFromSubscriptionMessage):
// the five core attributes, the data, and every other field from extensions
// (time, topic, pubsubname, traceid, traceparent, tracestate, expiration and
// the publisher's own extensions). The data goes back the way daprd stored
// it: embedded JSON for JSON content types, a string for text, base64 for
// anything else.
func envelope(ev *runtimev1pb.TopicEventRequest) ([]byte, error) {
	m := ev.GetExtensions().AsMap()
	if m == nil {
		m = map[string]any{}
	}
	m[contrib.IDField] = ev.GetId()
	m[contrib.SourceField] = ev.GetSource()
	m[contrib.TypeField] = ev.GetType()
	m[contrib.SpecVersionField] = ev.GetSpecVersion()
	ct := ev.GetDataContentType()
	if ct != "" {
		m[contrib.DataContentTypeField] = ct
	}
	if data := ev.GetData(); len(data) > 0 {
		switch {
		case (contenttype.IsJSONContentType(ct) || contenttype.IsCloudEventContentType(ct)) && json.Valid(data):
			m[contrib.DataField] = json.RawMessage(data)
		case contenttype.IsStringContentType(ct):
			m[contrib.DataField] = string(data)
		default:
			m[contrib.DataBase64Field] = base64.StdEncoding.EncodeToString(data)
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("envelope of event %s: %w", ev.GetId(), err)
	}
	return b, nil
}
