package subscriptions

import (
	"context"
	"sync"
	"testing"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
)

// fakeCallback is a gRPC app's OnTopicEvent answering st or err.
type fakeCallback struct {
	mu  sync.Mutex
	got []*runtimev1pb.TopicEventRequest
	md  []metadata.MD
	st  runtimev1pb.TopicEventResponse_TopicEventResponseStatus
	err error
}

func (f *fakeCallback) OnTopicEvent(ctx context.Context, in *runtimev1pb.TopicEventRequest, _ ...grpc.CallOption) (*runtimev1pb.TopicEventResponse, error) {
	md, _ := metadata.FromOutgoingContext(ctx)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got, f.md = append(f.got, in), append(f.md, md)
	if f.err != nil {
		return nil, f.err
	}
	return &runtimev1pb.TopicEventResponse{Status: f.st}, nil
}

func TestAppGRPCDelivery(t *testing.T) {
	const envelope = `{"specversion":"1.0","id":"e1","source":"checkout","type":"com.dapr.event.sent",` +
		`"datacontenttype":"application/json","data":{"orderId":1},"topic":"orders","pubsubname":"orderpubsub","traceid":"t"}`
	tests := []struct {
		name        string
		st          runtimev1pb.TopicEventResponse_TopicEventResponseStatus
		err         error
		wantErr     bool
		wantDead    int
		wantDropped int64
	}{
		{name: "SUCCESS", st: runtimev1pb.TopicEventResponse_SUCCESS},
		{name: "RETRY", st: runtimev1pb.TopicEventResponse_RETRY, wantDead: 1},
		{name: "DROP", st: runtimev1pb.TopicEventResponse_DROP, wantDead: 1},
		{name: "unknown status", st: 7, wantDead: 1},
		{name: "Unimplemented drops", err: status.Error(codes.Unimplemented, "no"), wantDropped: 1},
		{name: "other error retries", err: status.Error(codes.Internal, "boom"), wantDead: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := &fakeCallback{st: tt.st, err: tt.err}
			ps := &fakePubSub{}
			b, err := New(Config{
				Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders",
					Routes: resources.Routes{Default: "orders"}, DeadLetterTopic: "dlq"}},
				PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{},
				Retry: delivery.RetryPolicy{Multiplier: 1}, App: &App{ID: "sub", Token: "tok", GRPC: app},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer b.Stop(context.Background())
			err = ps.handlers["orders"](context.Background(), &pubsub.Message{Topic: "orders", Data: []byte(envelope)})
			if (err != nil) != tt.wantErr {
				t.Fatalf("handler error = %v", err)
			}
			if got := len(ps.publishedOn("dlq")); got != tt.wantDead {
				t.Errorf("dead-lettered %d, want %d", got, tt.wantDead)
			}
			if c := b.Status()[0].Counts; c.Dropped != tt.wantDropped {
				t.Errorf("dropped %d, want %d", c.Dropped, tt.wantDropped)
			}
			req := app.got[0]
			if req.GetId() != "e1" || req.GetSource() != "checkout" || req.GetPath() != "orders" || req.GetTopic() != "orders" ||
				req.GetPubsubName() != "orderpubsub" || string(req.GetData()) != `{"orderId":1}` || req.GetDataContentType() != "application/json" {
				t.Errorf("request %v", req)
			}
			if v := req.GetExtensions().GetFields()["traceid"].GetStringValue(); v != "t" {
				t.Errorf("extension traceid = %q", v)
			}
			if _, ok := req.GetExtensions().GetFields()["data"]; ok {
				t.Error("data is repeated in the extensions")
			}
			if tok := app.md[0].Get("dapr-api-token"); len(tok) != 1 || tok[0] != "tok" {
				t.Errorf("dapr-api-token %q", tok)
			}
		})
	}
}

// fakeBulkCallback answers bulk calls with a status per entry's case.
type fakeBulkCallback struct {
	fakeCallback
	got []*runtimev1pb.TopicEventBulkRequest
	err error
}

func (f *fakeBulkCallback) OnBulkTopicEventAlpha1(_ context.Context, in *runtimev1pb.TopicEventBulkRequest, _ ...grpc.CallOption) (*runtimev1pb.TopicEventBulkResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, in)
	if f.err != nil {
		return nil, f.err
	}
	resp := &runtimev1pb.TopicEventBulkResponse{}
	for _, e := range in.GetEntries() {
		switch c := string(e.GetCloudEvent().GetData()); c {
		case `"SUCCESS"`, `"RETRY"`, `"DROP"`:
			resp.Statuses = append(resp.Statuses, &runtimev1pb.TopicEventBulkResponseEntry{EntryId: e.GetEntryId(),
				Status: runtimev1pb.TopicEventResponse_TopicEventResponseStatus(runtimev1pb.TopicEventResponse_TopicEventResponseStatus_value[c[1:len(c)-1]])})
		}
	}
	return resp, nil
}

func TestAppGRPCBulkDelivery(t *testing.T) {
	for _, tt := range []struct {
		name                    string
		err                     error
		wantDead, wantDelivered int64
		wantDropped             int64
	}{
		{name: "per-entry statuses", wantDelivered: 1, wantDead: 3},
		{name: "Unimplemented drops the batch", err: status.Error(codes.Unimplemented, "no"), wantDropped: 4},
		{name: "another error retries the batch", err: status.Error(codes.Internal, "boom"), wantDead: 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			app := &fakeBulkCallback{err: tt.err}
			ps := &fakePubSub{}
			b, err := New(Config{
				Subscriptions: []resources.Subscription{{Name: "s", PubsubName: "orderpubsub", Topic: "orders", DeadLetterTopic: "dlq",
					BulkSubscribe: resources.BulkSubscribe{Enabled: true, MaxMessagesCount: 4, MaxAwaitDurationMs: 2000}}},
				PubSubs: registry{"orderpubsub": ps}, Target: staticTarget{},
				Retry: delivery.RetryPolicy{Multiplier: 1}, App: &App{ID: "sub", GRPC: app},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := b.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer b.Stop(context.Background())
			var wg sync.WaitGroup
			for i, c := range []string{"SUCCESS", "RETRY", "DROP", "missing"} {
				wg.Go(func() {
					env := `{"specversion":"1.0","id":"e` + string(rune('0'+i)) + `","source":"s","type":"t","datacontenttype":"application/json","data":"` + c + `"}`
					if err := ps.handlers["orders"](context.Background(), &pubsub.Message{Topic: "orders", Data: []byte(env)}); err != nil {
						t.Errorf("%s: %v", c, err)
					}
				})
			}
			wg.Wait()
			c := b.Status()[0].Counts
			if c.Delivered != tt.wantDelivered || c.DeadLettered != tt.wantDead || c.Dropped != tt.wantDropped {
				t.Errorf("counts %+v, want delivered %d, dead-lettered %d, dropped %d", c, tt.wantDelivered, tt.wantDead, tt.wantDropped)
			}
			if req := app.got[0]; req.GetType() != "com.dapr.event.sent.bulk" || req.GetPubsubName() != "orderpubsub" ||
				req.GetMetadata()["pubsubName"] != "orderpubsub" || len(req.GetEntries()) != 4 {
				t.Errorf("bulk request %v", req)
			}
		})
	}
}
