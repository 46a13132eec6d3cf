package binding

import (
	"context"
	"sync"
	"testing"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

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
				Retry: RetryPolicy{Multiplier: 1}, App: &App{ID: "sub", Token: "tok", GRPC: app},
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
