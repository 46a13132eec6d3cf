package function

import (
	"net/http"
	"strings"
	"testing"
)

// binary returns the headers of a binary-mode CloudEvent (what Knative
// Eventing, `func invoke` and curl send).
func binary(contentType string) map[string]string {
	return map[string]string{
		"Ce-Specversion": "1.0", "Ce-Id": "order-1", "Ce-Type": "com.example.order.placed",
		"Ce-Source": "/test", "Content-Type": contentType,
	}
}

// daprHeader is what daprd sends with an envelope: a structured CloudEvent
// plus the message metadata and trace context as raw headers.
var daprHeader = map[string]string{
	"Content-Type": "application/cloudevents+json",
	"Pubsubname":   "orderpubsub",
	"Traceparent":  "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}

func TestHTTPOrders(t *testing.T) {
	type request struct {
		name   string
		header map[string]string
		body   string
	}
	type request2 struct {
		request
		want string
	}
	tests := []request2{{request{"binary application/json", binary("application/json"), seedOrder}, seedLine}}
	for _, s := range daprShapes {
		// The envelope's traceparent extension is the order's trace.
		tests = append(tests, request2{request{"Dapr envelope: " + s.name, daprHeader, s.envelope}, tracedSeedLine})
	}
	unsetenv(t, "LOG_FORMAT", "PROCESSING_DELAY")
	logs := new(syncBuffer)
	base := serve(t, newFunction(logs))

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(logs.String())
			status, header, body := send(t, http.MethodPost, base+"/orders", tt.header, tt.body)
			if status != http.StatusOK || body != "" || header.Get("Ce-Id") != "" {
				t.Errorf("response: got %d %q (Ce-Id %q), want 200 with no body and no reply event",
					status, body, header.Get("Ce-Id"))
			}
			if got := logs.String()[before:]; got != tt.want {
				t.Errorf("log: got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestHTTPRejectsInvalidOrders(t *testing.T) {
	tests := []struct {
		name     string
		header   map[string]string
		body     string
		wantBody string
	}{
		{"binary missing orderId", binary("application/json"), `{"customerName":"C"}`, "invalid order: orderId is missing"},
		{"binary zero orderId", binary("application/json"), `{"orderId":0}`, "invalid order: orderId must be greater than 0"},
		{"binary not JSON", binary("application/json"), `hello`, "invalid order: data is not valid JSON"},
		{"binary xml", binary("application/xml"), `<order/>`, `data content type "application/xml" is not JSON`},
		{"Dapr envelope without orderId", daprHeader,
			daprEnvelope(`"datacontenttype":"application/json","data":{"amount":1}`), "invalid order: orderId is missing"},
		{"Dapr envelope with a non-JSON string", daprHeader,
			daprEnvelope(`"datacontenttype":"text/plain","data":"order 1"`), "invalid order: data is not valid JSON"},
	}
	unsetenv(t, "LOG_FORMAT", "PROCESSING_DELAY")
	logs := new(syncBuffer)
	base := serve(t, newFunction(logs))

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := send(t, http.MethodPost, base, tt.header, tt.body)
			if status != http.StatusBadRequest || !strings.Contains(body, tt.wantBody) {
				t.Errorf("got %d %q, want 400 containing %q", status, body, tt.wantBody)
			}
		})
	}
	if got := logs.String(); strings.Contains(got, "Subscriber received") {
		t.Errorf("log: got %q, want no order line", got)
	}
}
