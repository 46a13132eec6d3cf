package broker

import (
	"errors"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/pubsub"
)

// FuzzTopic: any topic name is either refused as invalid (the publish
// API's 400) or maps to a stream name JetStream takes: at most 255 bytes,
// none of the characters it refuses.
func FuzzTopic(f *testing.F) {
	for _, seed := range []string{"orders", "orders.eu", "a b", "*", ">", "orders..eu", ".x", "x.", "bestellungen-ü", "\x00", "\xff",
		strings.Repeat("a", MaxTopicBytes), strings.Repeat("ü", MaxTopicBytes/2)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, topic string) {
		if err := validTopic(topic); err != nil {
			if !errors.Is(err, pubsub.ErrInvalidTopic) {
				t.Fatalf("%q: got %v, want pubsub.ErrInvalidTopic", topic, err)
			}
			return
		}
		name := StreamName(topic)
		if len(name) > 255 || name == "" || strings.ContainsAny(name, " \t\r\n.*>/\\") {
			t.Fatalf("%q: stream name %q is not one JetStream takes", topic, name)
		}
	})
}
