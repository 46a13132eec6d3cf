package platform

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// bulkPort is a pub/sub port whose component takes bulk publishes; it
// records what reaches it.
type bulkPort struct {
	mu     sync.Mutex
	single int
	bulk   []*contrib.BulkPublishRequest
}

func (b *bulkPort) Publish(context.Context, *pubsub.Message) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.single++
	return nil
}

func (b *bulkPort) BulkPublish(_ context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.bulk = append(b.bulk, req)
	return contrib.BulkPublishResponse{}, nil
}

func (b *bulkPort) Features() []contrib.Feature { return []contrib.Feature{contrib.FeatureBulkPublish} }

func (*bulkPort) Subscribe(context.Context, pubsub.Subscription, pubsub.Handler) error { return nil }
func (*bulkPort) Close() error                                                         { return nil }

// TestBulkPublishPassesTheAccessRules sends a bulk publish through the
// publish API and the access rules, as `funcd up` wires them: an allowed
// topic reaches the component's BulkPublish whole, a refused one nothing.
func TestBulkPublishPassesTheAccessRules(t *testing.T) {
	comp := inMemory("orderpubsub", nil, map[string]string{"publishingScopes": "checkout=orders"})
	port := &bulkPort{}
	reg := pubsub.NewRegistry()
	if err := reg.Add(comp.Name, comp.Type, port); err != nil {
		t.Fatal(err)
	}
	comps := scoped{comps: sidecar.FromRegistry(reg), app: "checkout", policy: access.New([]resources.Component{comp}), log: slog.New(slog.DiscardHandler)}
	sc, err := sidecar.New("checkout", comps)
	if err != nil {
		t.Fatal(err)
	}
	body := `[{"entryId":"1","event":{"n":1},"contentType":"application/json"},{"entryId":"2","event":{"n":2},"contentType":"application/json"}]`
	for _, tt := range []struct {
		topic string
		code  int
		bulk  int
	}{
		{"orders", http.StatusNoContent, 1},
		{"returns", http.StatusForbidden, 1},
	} {
		rec := httptest.NewRecorder()
		sc.HTTPHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1.0-alpha1/publish/bulk/orderpubsub/"+tt.topic, strings.NewReader(body)))
		if rec.Code != tt.code {
			t.Errorf("bulk publish to %s: got %d %s, want %d", tt.topic, rec.Code, rec.Body, tt.code)
		}
		if len(port.bulk) != tt.bulk || port.single != 0 {
			t.Errorf("after %s: component got %d bulk and %d single publishes, want %d bulk", tt.topic, len(port.bulk), port.single, tt.bulk)
		}
	}
	if len(port.bulk) == 0 {
		t.Fatal("the component got no bulk publish")
	}
	if got := port.bulk[0]; got.Topic != "orders" || len(got.Entries) != 2 {
		t.Errorf("bulk request: got topic %s with %d entries, want orders with 2", got.Topic, len(got.Entries))
	}
}
