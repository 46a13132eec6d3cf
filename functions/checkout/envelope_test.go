package function

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
)

// TestHandleDaprEnvelopes documents how checkout treats the envelopes daprd
// would deliver: JSON data is accepted however it is carried; data Dapr
// wrapped as text/plain or octet-stream is not JSON by its label and is
// rejected, because checkout's contract is application/json.
func TestHandleDaprEnvelopes(t *testing.T) {
	order := `{"orderId":1,"customerName":"Customer 1","amount":10.0}`
	b64 := base64.StdEncoding.EncodeToString([]byte(order))
	quoted, _ := json.Marshal(order)
	tests := []struct {
		name       string
		dataFields string
		wantStatus int // 0: accepted
	}{
		{"JSON object", `"datacontenttype":"application/json","data":` + order, 0},
		{"data_base64 labelled application/json", `"datacontenttype":"application/json","data_base64":"` + b64 + `"`, 0},
		{"JSON string labelled text/plain", `"datacontenttype":"text/plain","data":` + string(quoted), 400},
		{"data_base64 labelled octet-stream", `"datacontenttype":"application/octet-stream","data_base64":"` + b64 + `"`, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e event.Event
			envelope := `{"specversion":"1.0","id":"1","source":"publisher","type":"com.dapr.event.sent",` +
				`"topic":"checkout","pubsubname":"orderpubsub",` +
				`"traceparent":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",` + tt.dataFields + `}`
			if err := json.Unmarshal([]byte(envelope), &e); err != nil {
				t.Fatalf("unmarshal envelope: %v", err)
			}
			f, _ := startedFunction(t, &fakePublisher{})
			reply, err := f.Handle(context.Background(), e)
			if tt.wantStatus != 0 {
				checkResult(t, reply, err, tt.wantStatus, "is not JSON")
				return
			}
			if err != nil {
				t.Fatalf("Handle: got %v, want nil", err)
			}
			checkReply(t, reply, Order{OrderID: 1, CustomerName: "Customer 1", Amount: 10, Status: "Pending"})
		})
	}
}
