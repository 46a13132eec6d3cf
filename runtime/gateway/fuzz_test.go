package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// FuzzStructuredEvent: the gateway's check of a structured event never
// panics, refuses with a 4xx and a reason, and lets through only what the
// functions' SDK reads as a valid event.
func FuzzStructuredEvent(f *testing.F) {
	for _, seed := range []string{
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data":{"orderId":1}}`,
		`{"specversion":"0.3","id":"1","source":"s","type":"t"}`,
		`{"specversion":"2.0","id":"1","source":"s","type":"t"}`,
		`{"specversion":1}`, `{"specversion":null}`, `{"specversion":"1.0",`, `[]`, `null`, ``,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","data_base64":"!!"}`,
		`{"specversion":"1.0","id":"1","source":"s","type":"t","time":"yesterday"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		p := structuredProblem(body)
		if p == nil {
			var ev event.Event
			if err := json.Unmarshal(body, &ev); err != nil || ev.Validate() != nil {
				t.Fatalf("%q let through, but the SDK reads it as %v / %v", body, err, ev.Validate())
			}
			return
		}
		if p.status != http.StatusBadRequest && p.status != http.StatusUnsupportedMediaType || p.reason == "" {
			t.Fatalf("%q: got %d %q, want 400 or 415 with a reason", body, p.status, p.reason)
		}
	})
}
