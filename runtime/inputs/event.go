package inputs

import (
	"strings"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	"github.com/dapr/components-contrib/bindings"
	"github.com/google/uuid"
)

// TypePrefix starts the CloudEvent type of an input binding's events:
// com.dapr.binding.cron for bindings.cron.
const TypePrefix = "com.dapr.binding."

// reserved are CloudEvent attribute names metadata must not shadow.
var reserved = map[string]bool{
	"specversion": true, "id": true, "source": true, "type": true, "datacontenttype": true,
	"dataschema": true, "subject": true, "time": true, "data": true, "data_base64": true,
}

// cloudEvent turns what binding name (of type typ) read into a CloudEvent:
// a new id, the binding name as source, the read data as data, and the read
// metadata as extensions (names lowercased to letters and digits, as
// CloudEvents requires: readTimeUTC -> readtimeutc).
func cloudEvent(name, typ string, r *bindings.ReadResponse) (event.Event, error) {
	ev := event.New()
	ev.SetID(uuid.NewString())
	ev.SetSource(name)
	ev.SetType(TypePrefix + strings.TrimPrefix(typ, "bindings."))
	ev.SetTime(time.Now())
	for k, v := range r.Metadata {
		if ext := extensionName(k); ext != "" && !reserved[ext] {
			ev.SetExtension(ext, v)
		}
	}
	if len(r.Data) > 0 {
		ct := "application/octet-stream"
		if r.ContentType != nil && *r.ContentType != "" {
			ct = *r.ContentType
		}
		if err := ev.SetData(ct, r.Data); err != nil {
			return ev, err
		}
	}
	return ev, ev.Validate()
}

func extensionName(key string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		}
		return -1
	}, key)
}
