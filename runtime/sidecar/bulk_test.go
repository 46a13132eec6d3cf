package sidecar

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"testing"

	"github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/codes"

	port "github.com/funcd/funcd/runtime/pubsub"
)

const bulkPath = "/v1.0-alpha1/publish/bulk/orderpubsub/orders"

func TestBulkPublishGRPC(t *testing.T) {
	e := startEnv(t)
	res := e.sdkClient(t).PublishEvents(context.Background(), testPubSub, testTopic,
		[]any{order{OrderID: 1}, "hello", []byte("raw")})
	if res.Error != nil || len(res.FailedEvents) != 0 {
		t.Fatalf("PublishEvents: %v, failed %v", res.Error, res.FailedEvents)
	}
	got := contentTypes(t, e.pub.requests())
	want := []string{"application/json", "application/octet-stream", "text/plain"}
	if !equal(got, want) {
		t.Errorf("datacontenttypes: got %v, want %v", got, want)
	}
}

func TestBulkPublishGRPCDuplicateID(t *testing.T) {
	e := startEnv(t)
	entry := &runtimev1pb.BulkPublishRequestEntry{EntryId: "1", Event: []byte("x"), ContentType: "text/plain"}
	_, err := e.protoClient(t).BulkPublishEventAlpha1(context.Background(), &runtimev1pb.BulkPublishRequest{
		PubsubName: testPubSub, Topic: testTopic, Entries: []*runtimev1pb.BulkPublishRequestEntry{entry, entry},
	})
	checkStatus(t, err, codes.InvalidArgument,
		"error marshaling events to bytes for topic orders pubsub orderpubsub. error: entryId is duplicated or not present for entry")
}

func TestBulkPublishHTTP(t *testing.T) {
	e := startEnv(t)
	body := `[{"entryId":"1","event":{"orderId":1},"contentType":"application/json"},
		{"entryId":"2","event":"hello","contentType":"text/plain","metadata":{"cloudevent.type":"t"}}]`
	resp := e.post(t, bulkPath, "application/json", body, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status: got %d, want 204", resp.StatusCode)
	}
	types := map[string]bool{}
	for _, r := range e.pub.requests() {
		types[decodeEnvelope(t, r)["type"].(string)] = true
	}
	if !types["com.dapr.event.sent"] || !types["t"] {
		t.Errorf("types: got %v, want the default and the entry's override", types)
	}
}

func TestBulkPublishHTTPErrors(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		pubErr   error
		wantCode int
		wantErr  string
		wantMsg  string
	}{
		{name: "malformed", body: `{"entryID": "}`, wantCode: 400, wantErr: "ERR_PUBSUB_EVENTS_SER",
			wantMsg: "error when unmarshaling the request for topic orders pubsub orderpubsub: unexpected EOF"},
		{name: "missing entry id", body: `[{"event":"x","contentType":"text/plain"}]`, wantCode: 400, wantErr: "ERR_PUBSUB_EVENTS_SER",
			wantMsg: "error marshaling events to bytes for topic orders pubsub orderpubsub. error: entryId is duplicated or not present for entry"},
		{name: "content type mismatch", body: `[{"entryId":"1","event":1,"contentType":"text/plain"}]`, wantCode: 400, wantErr: "ERR_PUBSUB_EVENTS_SER",
			wantMsg: "error when marshalling cloud event envelope for topic orders pubsub orderpubsub: error: mismatch between contentType and event"},
		{name: "publish failure", body: `[{"entryId":"1","event":"x","contentType":"text/plain"}]`, pubErr: errBoom,
			wantCode: 500, wantErr: "ERR_PUBSUB_PUBLISH_MESSAGE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startEnv(t)
			e.pub.setErr(tc.pubErr)
			resp := e.post(t, bulkPath, "application/json", tc.body, nil)
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if tc.pubErr != nil {
				checkFailedEntries(t, resp)
				return
			}
			checkHTTPError(t, resp, tc.wantErr, tc.wantMsg)
		})
	}
}

func checkFailedEntries(t *testing.T, resp *http.Response) {
	t.Helper()
	defer resp.Body.Close()
	var got bulkResponseJSON
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.ErrorCode != "ERR_PUBSUB_PUBLISH_MESSAGE" || len(got.FailedEntries) != 1 || got.FailedEntries[0].EntryID != "1" {
		t.Errorf("body: got %+v, want entry 1 failed", got)
	}
	if resp.Header.Get("metadata.error") == "" {
		t.Error("metadata.error header: got none")
	}
}

// bulkFake implements BulkPublisher.
type bulkFake struct {
	*fakePublisher
	got *pubsub.BulkPublishRequest
}

func (b *bulkFake) BulkPublish(_ context.Context, req *pubsub.BulkPublishRequest) (pubsub.BulkPublishResponse, error) {
	b.got = req
	return pubsub.BulkPublishResponse{FailedEntries: []pubsub.BulkPublishResponseFailedEntry{{EntryId: "2", Error: errBoom}}}, nil
}

func TestBulkPublisherCapability(t *testing.T) {
	bf := &bulkFake{fakePublisher: &fakePublisher{}}
	e := startWith(t, fakeComponents{testPubSub: bf}, bf.fakePublisher)
	b := dapr.PublishEventsEvent{EntryID: "2", Data: []byte("b"), ContentType: "text/plain"}
	res := e.sdkClient(t).PublishEvents(context.Background(), testPubSub, testTopic, []any{"a", b},
		dapr.PublishEventsWithRawPayload())
	if bf.got == nil || len(bf.got.Entries) != 2 || string(bf.got.Entries[0].Event) != "a" {
		t.Fatalf("BulkPublish request: got %+v, want the two raw entries", bf.got)
	}
	if len(res.FailedEvents) != 1 {
		t.Fatalf("failed events: got %v, want entry 2", res.FailedEvents)
	}
	if ev, ok := res.FailedEvents[0].(dapr.PublishEventsEvent); !ok || ev.EntryID != "2" {
		t.Errorf("failed events: got %v, want entry 2", res.FailedEvents)
	}
}

func contentTypes(t *testing.T, reqs []*port.Message) []string {
	t.Helper()
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		out = append(out, decodeEnvelope(t, r)["datacontenttype"].(string))
	}
	sort.Strings(out)
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
