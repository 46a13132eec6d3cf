package function

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	daprc "github.com/dapr/go-sdk/client"
)

// unusedClient is a sidecar client no call reaches.
type unusedClient struct{ daprc.Client }

// TestHandleRefusesOtherComponents: the adapters are the configured ones,
// opened once; an event naming another component is refused with 400 and
// the names it may use, and opens nothing.
func TestHandleRefusesOtherComponents(t *testing.T) {
	comps, err := openComponents(unusedClient{}, nil, []string{"orderpubsub", "audit", "orderpubsub"})
	if err != nil {
		t.Fatal(err)
	}
	if got := comps.names(); strings.Join(got, ",") != "audit,orderpubsub" {
		t.Fatalf("opened %v, want audit and orderpubsub once each", got)
	}
	f := New()
	f.run.Store(&running{cfg: Config{PubsubName: "orderpubsub", Topic: "orders"}, comps: comps})
	t.Cleanup(func() { _ = comps.Close() })
	for range 3 {
		ev := event.New()
		ev.SetID("1")
		ev.SetSource("/test")
		ev.SetType("t")
		ev.SetExtension("pubsubname", "attacker-chosen")
		_, err := f.Handle(t.Context(), ev)
		var res *cehttp.Result
		if !errors.As(err, &res) || res.StatusCode != http.StatusBadRequest ||
			!strings.Contains(err.Error(), `"attacker-chosen"`) || !strings.Contains(err.Error(), "audit, orderpubsub") {
			t.Fatalf("Handle = %v, want 400 naming the component and the configured ones", err)
		}
	}
	if n := len(comps.byName); n != 2 {
		t.Errorf("%d adapters after refused events, want 2", n)
	}
}
