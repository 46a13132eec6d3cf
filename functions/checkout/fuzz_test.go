package function

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzDecodeOrder checks that no event data or content type makes decoding
// panic, that every failure is an invalid order (answered 400), and that
// every accepted order is valid and survives a JSON round trip.
func FuzzDecodeOrder(f *testing.F) {
	f.Add("application/json", []byte(`{"orderId":1,"customerName":"Customer 1","amount":10.0,"status":"Pending"}`))
	f.Add("", []byte(`{"orderId":2}`))
	f.Add("application/cloudevents+json", []byte(`{"orderId":3,"amount":-1}`))
	f.Add("text/plain", []byte(`{"orderId":4}`))
	f.Add("application/json; charset=utf-8", []byte(`{"orderId":1e3}`))
	f.Add("application/json", []byte(`[{"orderId":1}]`))
	f.Add("application/json", []byte(`{"orderId":"7","amount":"x"}`))
	f.Fuzz(func(t *testing.T, contentType string, data []byte) {
		e := orderEvent(contentType, string(data))
		order, err := decodeOrder(e)
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
		again, err := parseOrder(b)
		if err != nil || again != order {
			t.Fatalf("round trip: got %+v, %v, want %+v", again, err, order)
		}
	})
}
