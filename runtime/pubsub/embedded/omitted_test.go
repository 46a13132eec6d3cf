package embedded_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
)

// TestOmittedTypes checks what a build that leaves Kafka or Redis out says
// of them; make test runs it with -tags funcd_nokafka,funcd_noredis.
func TestOmittedTypes(t *testing.T) {
	for typ, tag := range map[string]string{"pubsub.kafka": "funcd_nokafka", "pubsub.redis": "funcd_noredis"} {
		// Version v2 fails fast for a built-in type, after the type check.
		_, err := embedded.Open(t.Context(), resources.Component{Name: "orderpubsub", File: "components/pubsub.yaml", Type: typ, Version: "v2"}, embedded.Options{})
		if !slices.Contains(embedded.Types(), typ) {
			if !errors.Is(err, embedded.ErrUnsupportedType) {
				t.Errorf("%s: got %v, want ErrUnsupportedType", typ, err)
			}
			for _, want := range []string{"orderpubsub", "components/pubsub.yaml", typ + " is not built into this funcd", tag, "make build"} {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: got %v, want it to contain %q", typ, err, want)
				}
			}
			continue
		}
		if errors.Is(err, embedded.ErrUnsupportedType) {
			t.Errorf("%s is built in, but Open says %v", typ, err)
		}
	}
}
