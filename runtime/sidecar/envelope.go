package sidecar

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/dapr/components-contrib/contenttype"
	"github.com/dapr/components-contrib/pubsub"
	apierrors "github.com/dapr/dapr/pkg/api/errors"
)

// message is one publish request as either API received it.
type message struct {
	pubsub      string
	topic       string
	contentType string
	data        []byte
	metadata    map[string]string
	trace       traceContext
}

var errNotJSONObject = errors.New("cloud event is not a JSON object")

// encode returns the bytes daprd hands the component: data itself when raw,
// else the JSON CloudEvent envelope (daprd pkg/api/{grpc,http} PublishEvent).
func (s *Sidecar) encode(m *message, raw bool, features []pubsub.Feature) (data []byte, id string, err error) {
	if raw {
		return m.data, "", nil
	}
	ce, err := s.cloudEvent(m)
	if err != nil {
		return nil, "", cloudEventRefused(m.pubsub, s.appID, err)
	}
	pubsub.ApplyMetadata(ce, features, m.metadata)
	b, err := json.Marshal(ce)
	if err != nil {
		return nil, "", apierrors.PubSub(m.pubsub).WithAppError(s.appID, err).WithTopic(m.topic).MarshalEnvelope()
	}
	// The id as the envelope's JSON carries it: json.Marshal would
	// replace invalid UTF-8, so such an id is left to be read from b.
	if v, ok := ce[pubsub.IDField].(string); ok && utf8.ValidString(v) {
		id = v
	}
	return b, id, nil
}

// cloudEvent mirrors daprd pkg/runtime/pubsub/cloudevents.go NewCloudEvent:
// a caller's CloudEvent is kept (no overrides apply), anything else is
// wrapped, with cloudevent.* metadata overriding the envelope attributes.
func (s *Sidecar) cloudEvent(m *message) (map[string]any, error) {
	if contenttype.IsCloudEventContentType(m.contentType) {
		// FromCloudEvent writes into the decoded map; a JSON null would be a
		// nil map and panic there (daprd does), so refuse it first.
		if !startsJSONObject(m.data) {
			return nil, errNotJSONObject
		}
		return pubsub.FromCloudEvent(m.data, m.topic, m.pubsub, m.trace.parent, m.trace.state)
	}
	o := ceOverrides{source: s.appID, traceID: m.trace.parent, traceState: m.trace.state}
	o.apply(m.metadata)
	if o.traceParent != "" {
		o.traceID = o.traceParent
	}
	return pubsub.NewCloudEventsEnvelope(o.id, o.source, o.typ, "", m.topic, m.pubsub,
		m.contentType, m.data, o.traceID, o.traceState), nil
}

// startsJSONObject reports whether the first JSON token of b opens an object.
func startsJSONObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}

// ceOverrides are the envelope attributes metadata can override: daprd
// decodes "cloudevent.<field>" keys with mapstructure.WeakDecode, which
// prefers an exact key and otherwise matches case-insensitively, and sets the
// field even to an empty value.
type ceOverrides struct {
	id, source, typ, traceID, traceState, traceParent string
}

const cePrefix = "cloudevent."

var ceFields = [...]string{"id", "source", "type", "traceid", "tracestate", "traceparent"}

func (o *ceOverrides) apply(md map[string]string) {
	var exact [len(ceFields)]bool
	for k, v := range md {
		i, isExact := ceField(k)
		if i < 0 || exact[i] {
			continue
		}
		*o.field(i) = v
		exact[i] = isExact
	}
}

func (o *ceOverrides) field(i int) *string {
	return [...]*string{&o.id, &o.source, &o.typ, &o.traceID, &o.traceState, &o.traceParent}[i]
}

// ceField returns the index in ceFields of an override key, or -1, and
// whether the key is spelled exactly.
func ceField(key string) (int, bool) {
	if len(key) <= len(cePrefix) || !strings.EqualFold(key[:len(cePrefix)], cePrefix) {
		return -1, false
	}
	name := key[len(cePrefix):]
	for i, f := range ceFields {
		if strings.EqualFold(name, f) {
			return i, key == cePrefix+f
		}
	}
	return -1, false
}
