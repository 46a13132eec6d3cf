package embedded

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/pubsub"
)

// recordingComponent is a components-contrib component that records the
// single and bulk publishes it gets.
type recordingComponent struct {
	contrib.PubSub // not called
	mu             sync.Mutex
	single         []*contrib.PublishRequest
	bulk           []*contrib.BulkPublishRequest
}

func (c *recordingComponent) Publish(_ context.Context, req *contrib.PublishRequest) error {
	c.record(func() { c.single = append(c.single, req) })
	return nil
}

func (c *recordingComponent) record(add func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	add()
}

func (c *recordingComponent) Features() []contrib.Feature { return nil }

// bulkComponent also takes bulk publishes, as pubsub.kafka does.
type bulkComponent struct{ *recordingComponent }

func (c bulkComponent) Features() []contrib.Feature {
	return []contrib.Feature{contrib.FeatureBulkPublish}
}

func (c bulkComponent) BulkPublish(_ context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	c.record(func() { c.bulk = append(c.bulk, req) })
	return contrib.BulkPublishResponse{}, nil
}

func bulkRequest() *contrib.BulkPublishRequest {
	return &contrib.BulkPublishRequest{Topic: "orders", Entries: []contrib.BulkMessageEntry{
		{EntryId: "1", Event: []byte(`{"id":"1"}`), ContentType: "application/cloudevents+json"},
		{EntryId: "2", Event: []byte(`{"id":"2"}`), ContentType: "application/cloudevents+json"},
	}}
}

func TestBulkPublishReachesTheComponent(t *testing.T) {
	rec := &recordingComponent{}
	ps := &PubSub{name: "orderpubsub", pub: bulkComponent{rec}, log: slog.New(slog.DiscardHandler)}
	if _, err := pubsub.BulkPublish(t.Context(), ps, bulkRequest()); err != nil {
		t.Fatalf("BulkPublish: %v", err)
	}
	if len(rec.bulk) != 1 || len(rec.single) != 0 {
		t.Fatalf("component got %d bulk and %d single publishes, want 1 bulk", len(rec.bulk), len(rec.single))
	}
	got := rec.bulk[0]
	if got.PubsubName != "orderpubsub" || got.Topic != "orders" || len(got.Entries) != 2 {
		t.Errorf("bulk request: got %s/%s with %d entries, want orderpubsub/orders with 2", got.PubsubName, got.Topic, len(got.Entries))
	}
	if !slices.Contains(pubsub.Features(ps), contrib.FeatureBulkPublish) {
		t.Errorf("features: got %v, want the component's %s", pubsub.Features(ps), contrib.FeatureBulkPublish)
	}
}

func TestBulkPublishWithoutTheCapabilityPublishesEachEntry(t *testing.T) {
	rec := &recordingComponent{}
	ps := &PubSub{name: "orderpubsub", pub: rec, log: slog.New(slog.DiscardHandler)}
	if _, err := pubsub.BulkPublish(t.Context(), ps, bulkRequest()); err != nil {
		t.Fatalf("BulkPublish: %v", err)
	}
	if len(rec.single) != 2 || len(rec.bulk) != 0 {
		t.Fatalf("component got %d single and %d bulk publishes, want 2 single", len(rec.single), len(rec.bulk))
	}
	for _, req := range rec.single {
		if req.PubsubName != "orderpubsub" || req.Topic != "orders" || req.ContentType == nil || *req.ContentType != "application/cloudevents+json" {
			t.Errorf("publish request: got %+v, want orderpubsub/orders with the entry's content type", req)
		}
	}
}
