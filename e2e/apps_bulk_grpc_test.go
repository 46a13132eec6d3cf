package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// grpcBulkApp is a gRPC Dapr app that subscribes to b-dl in bulk
// (OnBulkTopicEventAlpha1) and answers each entry as its case says.
type grpcBulkApp struct {
	runtimev1pb.UnimplementedAppCallbackServer
	runtimev1pb.UnimplementedAppCallbackAlphaServer
	port int
	bulkTally
}

func startGRPCBulkApp(t *testing.T) *grpcBulkApp {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &grpcBulkApp{port: l.Addr().(*net.TCPAddr).Port, bulkTally: newBulkTally()}
	s := grpc.NewServer()
	runtimev1pb.RegisterAppCallbackServer(s, a)
	runtimev1pb.RegisterAppCallbackAlphaServer(s, a)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return a
}

func (a *grpcBulkApp) ListTopicSubscriptions(context.Context, *emptypb.Empty) (*runtimev1pb.ListTopicSubscriptionsResponse, error) {
	return &runtimev1pb.ListTopicSubscriptionsResponse{Subscriptions: []*runtimev1pb.TopicSubscription{
		{PubsubName: "orderpubsub", Topic: "b-dl", DeadLetterTopic: "b-dlq", Routes: &runtimev1pb.TopicRoutes{Default: "/bulk"},
			BulkSubscribe: &runtimev1pb.BulkSubscribeConfig{Enabled: true, MaxMessagesCount: 5, MaxAwaitDurationMs: 1000}},
		{PubsubName: "orderpubsub", Topic: "b-dlq", Routes: &runtimev1pb.TopicRoutes{Default: "dead"}},
	}}, nil
}

func (a *grpcBulkApp) OnTopicEvent(_ context.Context, in *runtimev1pb.TopicEventRequest) (*runtimev1pb.TopicEventResponse, error) {
	var d struct {
		Case string `json:"case"`
	}
	_ = json.Unmarshal(in.GetData(), &d)
	a.mu.Lock()
	a.dead[d.Case] = true
	a.mu.Unlock()
	return &runtimev1pb.TopicEventResponse{}, nil
}

func (a *grpcBulkApp) OnBulkTopicEventAlpha1(_ context.Context, in *runtimev1pb.TopicEventBulkRequest) (*runtimev1pb.TopicEventBulkResponse, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	resp := &runtimev1pb.TopicEventBulkResponse{}
	for _, e := range in.GetEntries() {
		var d struct {
			Case string `json:"case"`
		}
		_ = json.Unmarshal(e.GetCloudEvent().GetData(), &d)
		c := d.Case
		a.attempts[c]++
		st, ok := map[string]runtimev1pb.TopicEventResponse_TopicEventResponseStatus{
			"success": runtimev1pb.TopicEventResponse_SUCCESS, "retry": runtimev1pb.TopicEventResponse_RETRY,
			"drop": runtimev1pb.TopicEventResponse_DROP, "unknown": 7}[c]
		if a.attempts[c] > 1 {
			st, ok = runtimev1pb.TopicEventResponse_SUCCESS, true
		}
		if ok {
			resp.Statuses = append(resp.Statuses, &runtimev1pb.TopicEventBulkResponseEntry{EntryId: e.GetEntryId(), Status: st})
		}
		if a.attempts[c] == 1 {
			ce := e.GetCloudEvent()
			for _, k := range volatile {
				delete(ce.GetExtensions().GetFields(), k)
			}
			b, _ := protojson.Marshal(&runtimev1pb.TopicEventCERequest{Source: ce.GetSource(), Type: ce.GetType(),
				SpecVersion: ce.GetSpecVersion(), DataContentType: ce.GetDataContentType(), Data: ce.GetData(), Extensions: ce.GetExtensions()})
			a.shape[c] = fmt.Sprintf("type=%s topic=%s pubsub=%s path=%s metadata=%v contentType=%q event=%s",
				in.GetType(), in.GetTopic(), in.GetPubsubName(), in.GetPath(), in.GetMetadata(), e.GetContentType(), b)
		}
	}
	return resp, nil
}

// TestDaprGRPCAppBulkSubscribe delivers in bulk to a gRPC app
// (OnBulkTopicEventAlpha1) through funcd and through the real daprd 1.16
// (with Redis), and compares the requests and each entry's outcome.
func TestDaprGRPCAppBulkSubscribe(t *testing.T) {
	const token = "bulk-token"
	funcdApp := startGRPCBulkApp(t)
	httpPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: bulk
    appDirPath: .
    appPort: %d
    appProtocol: grpc
    daprHTTPPort: %d
`, funcdApp.port, httpPort), parallel, nil)
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	publishBulkCases(t, "http://"+addr(httpPort), token)
	waitFor(t, time.Minute, "every bulk case settled under funcd", funcdApp.settled)

	daprdApp := startGRPCBulkApp(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t))})
	publishBulkCases(t, startDaprdPlain(t, "bulk", res, daprdApp.port, "grpc"), "")
	waitFor(t, time.Minute, "every bulk case settled under daprd", daprdApp.settled)

	time.Sleep(4 * time.Second)
	compareBulkApps(t, funcdApp.outcomes(), daprdApp.outcomes(), funcdApp.shape, daprdApp.shape)
}
