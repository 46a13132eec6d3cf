package dapr

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	contrib "github.com/dapr/components-contrib/pubsub"
	inmemory "github.com/dapr/components-contrib/pubsub/in-memory"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"

	"github.com/funcd/funcd/runtime/kitlog"
	"github.com/funcd/funcd/runtime/pubsub"
)

// bulkComponent is a components-contrib component with the BULK_PUBSUB
// feature that records what it gets; it reports the entry failEntry
// failed, without an error, as a component may.
type bulkComponent struct {
	contrib.PubSub // not called
	failEntry      string

	mu     sync.Mutex
	bulk   []*contrib.BulkPublishRequest
	single int
}

func (c *bulkComponent) Features() []contrib.Feature {
	return []contrib.Feature{contrib.FeatureBulkPublish}
}

func (c *bulkComponent) Publish(context.Context, *contrib.PublishRequest) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.single++
	return nil
}

func (c *bulkComponent) BulkPublish(_ context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bulk = append(c.bulk, req)
	res := contrib.BulkPublishResponse{}
	if c.failEntry != "" {
		res.FailedEntries = []contrib.BulkPublishResponseFailedEntry{{EntryId: c.failEntry, Error: errors.New("broker refused it")}}
	}
	return res, nil
}

// failingComponent has no bulk publish and fails the publish of one event.
type failingComponent struct {
	contrib.PubSub // not called
	failID         string
}

func (failingComponent) Features() []contrib.Feature { return nil }

func (c failingComponent) Publish(_ context.Context, req *contrib.PublishRequest) error {
	if strings.Contains(string(req.Data), `"id":"`+c.failID+`"`) {
		return errors.New("broker refused it")
	}
	return nil
}

// envelopes is a bulk request of one stored envelope per id, each with
// metadata k=v, as the publish API hands them to the port.
func envelopes(ids ...string) *contrib.BulkPublishRequest {
	req := &contrib.BulkPublishRequest{PubsubName: "orderpubsub", Topic: "orders"}
	for _, id := range ids {
		req.Entries = append(req.Entries, contrib.BulkMessageEntry{EntryId: id, Event: []byte(envelopeJSON(id)),
			ContentType: "application/json", Metadata: map[string]string{"k": "v"}})
	}
	return req
}

func (f *fakeDaprd) bulkCalls() []*runtimev1pb.BulkPublishRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.bulk)
}

func (f *fakeDaprd) publishes() []*runtimev1pb.PublishEventRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.published)
}

func failedIDs(res contrib.BulkPublishResponse) []string {
	var ids []string
	for _, e := range res.FailedEntries {
		ids = append(ids, e.EntryId)
	}
	slices.Sort(ids)
	return ids
}

func TestBulkPublishGoesWholeToABulkComponent(t *testing.T) {
	comp := &bulkComponent{}
	f := newFakeDaprd()
	f.component = comp
	ps := open(t, f)
	res, err := pubsub.BulkPublish(t.Context(), ps, envelopes("a", "b"))
	if err != nil || len(res.FailedEntries) != 0 {
		t.Fatalf("BulkPublish: got %v, failed %v, want nil and none", err, failedIDs(res))
	}
	calls := f.bulkCalls()
	if len(calls) != 1 || len(f.publishes()) != 0 {
		t.Fatalf("daprd got %d bulk and %d single publishes, want 1 bulk", len(calls), len(f.publishes()))
	}
	in := calls[0]
	if in.GetPubsubName() != "orderpubsub" || in.GetTopic() != "orders" || in.GetMetadata()["rawPayload"] != "" {
		t.Errorf("bulk request: got %s/%s with metadata %v, want orderpubsub/orders without rawPayload", in.GetPubsubName(), in.GetTopic(), in.GetMetadata())
	}
	for i, e := range in.GetEntries() {
		id := []string{"a", "b"}[i]
		if e.GetEntryId() != id || string(e.GetEvent()) != envelopeJSON(id) || e.GetContentType() != "application/cloudevents+json" ||
			e.GetMetadata()["k"] != "v" || e.GetMetadata()["rawPayload"] != "" {
			t.Errorf("entry %d: got %s %s (%s) %v, want %s, its envelope as application/cloudevents+json, metadata k=v", i, e.GetEntryId(), e.GetEvent(), e.GetContentType(), e.GetMetadata(), id)
		}
	}
	comp.mu.Lock()
	defer comp.mu.Unlock()
	if len(comp.bulk) != 1 || len(comp.bulk[0].Entries) != 2 || comp.single != 0 {
		t.Errorf("component got %d bulk publishes (%v) and %d single ones, want the 2 entries in 1 bulk publish", len(comp.bulk), comp.bulk, comp.single)
	}
}

func TestBulkPublishReachesAComponentWithoutBulkEntryByEntry(t *testing.T) {
	mem := inmemory.New(kitlog.New(slog.New(slog.DiscardHandler)))
	if err := mem.Init(t.Context(), contrib.Metadata{}); err != nil {
		t.Fatalf("in-memory Init: %v", err)
	}
	t.Cleanup(func() { mem.Close() })
	got := make(chan string, 4)
	err := mem.Subscribe(t.Context(), contrib.SubscribeRequest{Topic: "orders"}, func(_ context.Context, m *contrib.NewMessage) error {
		got <- string(m.Data)
		return nil
	})
	if err != nil {
		t.Fatalf("in-memory Subscribe: %v", err)
	}
	f := newFakeDaprd()
	f.component = mem
	ps := open(t, f)
	res, err := ps.BulkPublish(t.Context(), envelopes("a", "b"))
	if err != nil || len(res.FailedEntries) != 0 {
		t.Fatalf("BulkPublish: got %v, failed %v, want nil and none", err, failedIDs(res))
	}
	if n := len(f.bulkCalls()); n != 1 {
		t.Errorf("daprd got %d bulk publishes, want 1", n)
	}
	var stored []string
	for range 2 {
		select {
		case d := <-got:
			stored = append(stored, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("in-memory component stored %d messages within 5s, want 2", len(stored))
		}
	}
	slices.Sort(stored)
	if want := []string{envelopeJSON("a"), envelopeJSON("b")}; !slices.Equal(stored, want) {
		t.Errorf("in-memory component stored %q, want %q", stored, want)
	}
}

func TestBulkPublishRawPayloads(t *testing.T) {
	comp := &bulkComponent{}
	f := newFakeDaprd()
	f.component = comp
	ps := open(t, f)
	req := &contrib.BulkPublishRequest{Topic: "orders", Entries: []contrib.BulkMessageEntry{
		{EntryId: "json", Event: []byte(`{"orderId":1}`), ContentType: "application/json"},
		{EntryId: "bytes", Event: []byte("\x00\x01")},
		{EntryId: "dead-letter", Event: []byte(envelopeJSON("d")), ContentType: "application/json", Metadata: map[string]string{"rawPayload": "true"}},
	}}
	if _, err := ps.BulkPublish(t.Context(), req); err != nil {
		t.Fatalf("BulkPublish: %v", err)
	}
	calls := f.bulkCalls()
	if len(calls) != 1 {
		t.Fatalf("daprd got %d bulk publishes, want 1", len(calls))
	}
	if calls[0].GetMetadata()["rawPayload"] != "true" {
		t.Errorf("request metadata %v, want rawPayload=true", calls[0].GetMetadata())
	}
	wantCT := []string{"application/json", "application/octet-stream", "application/json"}
	for i, e := range calls[0].GetEntries() {
		if e.GetContentType() != wantCT[i] || e.GetMetadata()["rawPayload"] != "true" || string(e.GetEvent()) != string(req.Entries[i].Event) {
			t.Errorf("entry %s: got %q (%s) %v, want its bytes as %s with rawPayload=true", e.GetEntryId(), e.GetEvent(), e.GetContentType(), e.GetMetadata(), wantCT[i])
		}
	}
}

func TestBulkPublishFailedEntries(t *testing.T) {
	tests := []struct {
		name      string
		component contrib.PubSub
		want      []string
	}{
		// daprd's own partial failure is an error without entries.
		{"daprd fails the call", failingComponent{failID: "b"}, []string{"a", "b", "c"}},
		{"the component reports one entry", &bulkComponent{failEntry: "b"}, []string{"b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDaprd()
			f.component = tt.component
			ps := open(t, f)
			res, err := ps.BulkPublish(t.Context(), envelopes("a", "b", "c"))
			if err == nil || !strings.Contains(err.Error(), "broker refused it") {
				t.Errorf("got error %v, want one with the component's", err)
			}
			if got := failedIDs(res); !slices.Equal(got, tt.want) {
				t.Errorf("got failed entries %v, want %v", got, tt.want)
			}
			for _, e := range res.FailedEntries {
				if e.Error == nil || !strings.Contains(e.Error.Error(), "broker refused it") {
					t.Errorf("entry %s: got error %v, want the component's", e.EntryId, e.Error)
				}
			}
		})
	}
}

// TestBulkPublishEntryByEntry: without daprd's bulk API, or for a request
// mixing envelopes and raw payloads (daprd reads rawPayload per request),
// each entry is published as Publish does, and only the failed ones are
// reported, as daprd's defaultBulkPublisher does.
func TestBulkPublishEntryByEntry(t *testing.T) {
	mixed := envelopes("a", "b")
	mixed.Entries[1].Event = []byte(`{"orderId":2,"id":"b"}`)
	tests := []struct {
		name      string
		component contrib.PubSub // behind daprd's bulk API; nil: none
		req       *contrib.BulkPublishRequest
		wantBulk  int
		wantCT    map[string]string // by entry id, of the publishes made
	}{
		{"sidecar without the bulk API", nil, envelopes("a", "b"), 1,
			map[string]string{"a": "application/cloudevents+json", "b": "application/cloudevents+json"}},
		{"envelopes and raw payloads", &bulkComponent{}, mixed, 0,
			map[string]string{"a": "application/cloudevents+json", "b": "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDaprd()
			f.component = tt.component
			res, err := open(t, f).BulkPublish(t.Context(), tt.req)
			if err != nil || len(res.FailedEntries) != 0 {
				t.Fatalf("BulkPublish: got %v, failed %v, want nil and none", err, failedIDs(res))
			}
			if n := len(f.bulkCalls()); n != tt.wantBulk {
				t.Errorf("daprd got %d bulk publishes, want %d", n, tt.wantBulk)
			}
			got := map[string]string{}
			for _, p := range f.publishes() {
				var id string
				for _, e := range tt.req.Entries {
					if string(e.Event) == string(p.GetData()) {
						id = e.EntryId
					}
				}
				got[id] = p.GetDataContentType()
			}
			if len(got) != len(tt.wantCT) {
				t.Errorf("got publishes %v, want %v", got, tt.wantCT)
			}
			for id, ct := range tt.wantCT {
				if got[id] != ct {
					t.Errorf("entry %s: published as %q, want %q", id, got[id], ct)
				}
			}
		})
	}
	t.Run("failed entries", func(t *testing.T) {
		f := newFakeDaprd()
		f.rejectPublish = func(req *runtimev1pb.PublishEventRequest) error {
			if strings.Contains(string(req.GetData()), `"id":"b"`) {
				return errors.New("broker refused it")
			}
			return nil
		}
		res, err := open(t, f).BulkPublish(t.Context(), envelopes("a", "b", "c"))
		if err == nil || !strings.Contains(err.Error(), "broker refused it") {
			t.Errorf("got error %v, want the failed entry's", err)
		}
		if got := failedIDs(res); !slices.Equal(got, []string{"b"}) {
			t.Errorf("got failed entries %v, want [b]", got)
		}
		if n := len(f.publishes()); n != 2 {
			t.Errorf("daprd stored %d, want 2 (a and c)", n)
		}
	})
}

func TestBulkPublishAfterClose(t *testing.T) {
	f := newFakeDaprd()
	f.component = &bulkComponent{}
	ps := open(t, f)
	if err := ps.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	res, err := ps.BulkPublish(t.Context(), envelopes("a", "b"))
	if !errors.Is(err, pubsub.ErrClosed) {
		t.Errorf("got %v, want ErrClosed", err)
	}
	if got := failedIDs(res); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("got failed entries %v, want [a b]", got)
	}
	if n := len(f.bulkCalls()); n != 0 {
		t.Errorf("daprd got %d bulk publishes after Close, want 0", n)
	}
}
