package function

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodeOrder checks that no event data or content type makes decoding
// panic, that every failure is an invalid order (answered 400, never
// retried), and that every accepted order is valid, survives a JSON round
// trip and logs as exactly one line.
func FuzzDecodeOrder(f *testing.F) {
	f.Add("application/json", []byte(seedOrder))
	f.Add("text/plain", []byte(`{"orderId":2,"amount":12.5}`))
	f.Add("application/octet-stream", []byte(`{"orderId":3,"customerName":"a\nb"}`))
	f.Add("", []byte(`{"orderId":0}`))
	f.Add("application/xml", []byte(`<order/>`))
	f.Add("application/json", []byte(`{"orderId":1,"amount":-1e308}`))
	f.Add("application/json", []byte(`null`))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		order, err := decodeOrder(orderEvent(contentType, string(data)))
		if err != nil {
			if !errors.Is(err, errInvalidOrder) {
				t.Fatalf("error: got %v, want one wrapping errInvalidOrder", err)
			}
			return
		}
		if order.OrderID <= 0 || order.Amount < 0 || order.Status == "" {
			t.Fatalf("accepted an invalid order: %+v", order)
		}
		b, err := json.Marshal(order)
		if err != nil {
			t.Fatalf("marshal %+v: %v", order, err)
		}
		if again, err := parseOrder(b); err != nil || again != order {
			t.Fatalf("round trip: got %+v, %v, want %+v", again, err, order)
		}
		if line := order.String(); !strings.HasPrefix(line, "Subscriber received: orderId=") ||
			strings.ContainsAny(line, "\r\n") {
			t.Fatalf("log line: got %q, want one seed-style line", line)
		}
	})
}
