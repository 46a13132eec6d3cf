package subscriptions

import (
	"encoding/json"
	"errors"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
)

// FuzzDecode feeds the envelope decoder arbitrary message bytes, as a broker
// may hold anything: it must not panic, every error must be a
// *PermanentError (no retry can fix the bytes), and what it accepts must be
// a valid CloudEvent.
func FuzzDecode(f *testing.F) {
	env := func(contentType string, data []byte) []byte {
		b, err := contribEnvelope(contentType, data)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	for _, seed := range [][]byte{
		env("application/json", []byte(order)),
		env("", []byte(order)),
		env("application/octet-stream", []byte{0, 1, 2}),
		[]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","expiration":"2000-01-01T00:00:00Z"}`),
		[]byte(`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"!!"}`),
		[]byte(`{"specversion":"0.3","id":"1","source":"s","type":"t"}`),
		[]byte(`{"orderId":1}`),
		[]byte(`null`),
		[]byte(`[]`),
		[]byte("hello"),
		{},
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		for _, withFields := range []bool{true, false} {
			msg := &pubsub.Message{Topic: "orders", Data: data, Metadata: map[string]string{"traceparent": "00-x"}}
			d, err := decode(msg, "orderpubsub", raw, withFields)
			if err != nil {
				var perm *delivery.PermanentError
				if !errors.As(err, &perm) {
					t.Fatalf("decode error %v is not a *delivery.PermanentError", err)
				}
				continue
			}
			if err := d.event.Validate(); err != nil {
				t.Fatalf("decode accepted an invalid CloudEvent: %v", err)
			}
			if !json.Valid(d.body) {
				t.Fatalf("decode accepted a body that is not JSON: %q", d.body)
			}
			if withFields && d.fields == nil {
				t.Fatal("decode with fields returned none")
			}
		}
	})
}

func contribEnvelope(contentType string, data []byte) ([]byte, error) {
	e := contrib.NewCloudEventsEnvelope("id-1", "checkout", contrib.DefaultCloudEventType, "", "orders",
		"orderpubsub", contentType, data, "", "")
	return json.Marshal(e)
}
