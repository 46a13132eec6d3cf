package subscriptions

import (
	"errors"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
)

// TestDecodeErrors: a message no retry can deliver gets a permanent error
// that says why.
func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"cut short", `{"specversion":"1.0","id":`, "unexpected end of JSON input"},
		{"trailing bytes", `{"specversion":"1.0","id":"1","source":"s","type":"t"} x`, "invalid character 'x' after top-level value"},
		{"not an object", `"hello"`, "orderpubsub/orders is not a"},
		{"no id", `{"specversion":"1.0","source":"s","type":"t"}`, "id: MUST be a non-empty string"},
		{"unknown spec", `{"specversion":"9.9","id":"1","source":"s","type":"t"}`, "9.9"},
	}
	for _, tt := range tests {
		for _, withFields := range []bool{false, true} {
			_, err := decode(&pubsub.Message{Topic: "orders", Data: []byte(tt.data)}, "orderpubsub", false, withFields)
			var perm *delivery.PermanentError
			if !errors.As(err, &perm) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%s (fields %v): got %v, want a permanent error saying %q", tt.name, withFields, err, tt.want)
			}
		}
	}
	d, err := decode(&pubsub.Message{Topic: "orders", Data: []byte(`{"specversion":"1.0","id":"1","source":"s","type":"t"}`)}, "orderpubsub", false, false)
	if err != nil || d.event.ID() != "1" {
		t.Errorf("a valid event: got %v, id %q", err, d.event.ID())
	}
}
