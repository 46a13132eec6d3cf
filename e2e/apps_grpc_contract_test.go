package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/funcd/funcd/runtime/pubsub/pubsubtest"
)

// grpcCase is one answer a gRPC app's OnTopicEvent can give, and what
// daprd 1.16 does with it (see appCase).
type grpcCase struct {
	name     string
	st       runtimev1pb.TopicEventResponse_TopicEventResponseStatus
	code     codes.Code // an error answer when not OK
	withDL   string
	withoutD string
}

var grpcCases = []grpcCase{
	{"success", runtimev1pb.TopicEventResponse_SUCCESS, codes.OK, "1 attempt", "1 attempt"},
	{"retry", runtimev1pb.TopicEventResponse_RETRY, codes.OK, "1 attempt, dead-lettered", "2 attempts"},
	{"drop", runtimev1pb.TopicEventResponse_DROP, codes.OK, "1 attempt, dead-lettered", "1 attempt"},
	{"unknown-status", 7, codes.OK, "1 attempt, dead-lettered", "2 attempts"},
	{"unimplemented", 0, codes.Unimplemented, "1 attempt", "1 attempt"},
	{"internal", 0, codes.Internal, "1 attempt, dead-lettered", "2 attempts"},
	{"not-found", 0, codes.NotFound, "1 attempt, dead-lettered", "2 attempts"},
}

// grpcContractApp is a gRPC Dapr app in the test process, subscribed to
// c-dl (dead-lettering to c-dlq), c-nodl and c-dlq.
type grpcContractApp struct {
	runtimev1pb.UnimplementedAppCallbackServer
	port     int
	mu       sync.Mutex
	attempts map[string]int
	dead     map[string]bool
	first    map[string]string // topic/case -> the request, volatile fields removed
}

func startGRPCContractApp(t *testing.T) *grpcContractApp {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &grpcContractApp{port: l.Addr().(*net.TCPAddr).Port, attempts: map[string]int{}, dead: map[string]bool{}, first: map[string]string{}}
	s := grpc.NewServer()
	runtimev1pb.RegisterAppCallbackServer(s, a)
	go s.Serve(l)
	t.Cleanup(s.Stop)
	return a
}

func (a *grpcContractApp) ListTopicSubscriptions(context.Context, *emptypb.Empty) (*runtimev1pb.ListTopicSubscriptionsResponse, error) {
	return &runtimev1pb.ListTopicSubscriptionsResponse{Subscriptions: []*runtimev1pb.TopicSubscription{
		{PubsubName: "orderpubsub", Topic: "c-dl", DeadLetterTopic: "c-dlq", Routes: &runtimev1pb.TopicRoutes{Default: "/answer"}},
		{PubsubName: "orderpubsub", Topic: "c-nodl"}, // no routes: daprd delivers with an empty path
		{PubsubName: "orderpubsub", Topic: "c-dlq", Routes: &runtimev1pb.TopicRoutes{Default: "dead"}},
	}}, nil
}

func (a *grpcContractApp) OnTopicEvent(_ context.Context, in *runtimev1pb.TopicEventRequest) (*runtimev1pb.TopicEventResponse, error) {
	var data struct {
		Case string `json:"case"`
	}
	_ = json.Unmarshal(in.GetData(), &data)
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.GetPath() == "dead" {
		a.dead[data.Case] = true
		return &runtimev1pb.TopicEventResponse{}, nil
	}
	key := in.GetTopic() + "/" + data.Case
	a.attempts[key]++
	if a.attempts[key] > 1 {
		return &runtimev1pb.TopicEventResponse{}, nil
	}
	a.first[key] = stableRequest(in)
	for _, c := range grpcCases {
		if c.name == data.Case {
			if c.code != codes.OK {
				return nil, status.Error(c.code, "answer "+c.name)
			}
			return &runtimev1pb.TopicEventResponse{Status: c.st}, nil
		}
	}
	return &runtimev1pb.TopicEventResponse{}, nil
}

// stableRequest is the request without the fields that differ between two
// publishes.
func stableRequest(in *runtimev1pb.TopicEventRequest) string {
	b, _ := protojson.Marshal(in)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	delete(m, "id")
	if ext, ok := m["extensions"].(map[string]any); ok {
		for _, k := range volatile {
			delete(ext, k)
		}
	}
	out, _ := json.Marshal(m)
	return string(out)
}

func (a *grpcContractApp) outcomes() map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, len(grpcCases))
	for i, c := range grpcCases {
		names[i] = c.name
	}
	return describeOutcomes(names, a.attempts, a.dead)
}

func (a *grpcContractApp) settled() bool {
	got := a.outcomes()
	for _, c := range grpcCases {
		if got["c-dl/"+c.name] != c.withDL || got["c-nodl/"+c.name] != c.withoutD {
			return false
		}
	}
	return true
}

// publishGRPCCases publishes every case to c-dl and c-nodl.
func publishGRPCCases(t *testing.T, daprURL, token string) {
	t.Helper()
	for _, topic := range []string{"c-dl", "c-nodl"} {
		for _, c := range grpcCases {
			publishJSON(t, daprURL, token, topic, fmt.Sprintf(`{"case":%q}`, c.name))
		}
	}
}

// TestDaprGRPCAppContract sends every answer a gRPC app's OnTopicEvent can
// give through funcd and through the real daprd 1.16 (with Redis), and
// compares the requests the app receives and what becomes of each message.
func TestDaprGRPCAppContract(t *testing.T) {
	const token = "contract-token"
	funcdApp := startGRPCContractApp(t)
	httpPort := freePort(t)
	dir := appsProject(t, fmt.Sprintf(`  - appID: contract
    appDirPath: .
    appPort: %d
    appProtocol: grpc
    daprHTTPPort: %d
`, funcdApp.port, httpPort), map[string]string{"ackWait": "2s"}, nil)
	startFuncd(t, "", t.TempDir(), nil, "--dir", dir, "--api-token", token)
	publishGRPCCases(t, "http://"+addr(httpPort), token)
	waitFor(t, 60*time.Second, "every case settled under funcd", funcdApp.settled)

	daprdApp := startGRPCContractApp(t)
	res := writeResources(t, map[string]string{"pubsub.yaml": redisComponent("orderpubsub", pubsubtest.StartRedis(t))})
	daprURL := startDaprdPlain(t, "contract", res, daprdApp.port, "grpc")
	publishGRPCCases(t, daprURL, "")
	waitFor(t, 60*time.Second, "every case settled under daprd", daprdApp.settled)

	time.Sleep(5 * time.Second) // no stray attempt may follow
	gotFuncd, gotDaprd := funcdApp.outcomes(), daprdApp.outcomes()
	var table strings.Builder
	for _, key := range slices.Sorted(maps.Keys(gotFuncd)) {
		mark := ""
		if gotFuncd[key] != gotDaprd[key] {
			mark = "  <-- differs"
			t.Fail()
		}
		fmt.Fprintf(&table, "%-26s funcd: %-26s daprd: %s%s\n", key, gotFuncd[key], gotDaprd[key], mark)
	}
	t.Logf("outcomes:\n%s", table.String())
	for key, f := range funcdApp.first {
		if d := daprdApp.first[key]; f != d {
			t.Errorf("%s: requests differ\nfuncd: %s\ndaprd: %s", key, f, d)
		}
	}
}

// startDaprdPlain runs daprd for an app on appPort with the given
// protocol and no app health checks; it returns its HTTP API's URL.
func startDaprdPlain(t *testing.T, appID, resources string, appPort int, protocol string) string {
	t.Helper()
	httpPort := freePort(t)
	d := startProc(t, "daprd "+appID, t.TempDir(), nil, daprdTool.need(t),
		"--app-id", appID, "--resources-path", resources, "--app-port", strconv.Itoa(appPort),
		"--app-protocol", protocol, "--app-channel-address", "127.0.0.1",
		"--dapr-grpc-port", strconv.Itoa(freePort(t)), "--dapr-http-port", strconv.Itoa(httpPort),
		"--dapr-internal-grpc-port", strconv.Itoa(freePort(t)), "--metrics-port", strconv.Itoa(freePort(t)),
		"--dapr-listen-addresses", "127.0.0.1", "--log-level", "info")
	waitHTTP(t, d, "http://"+addr(httpPort)+"/v1.0/healthz", 204, 60*time.Second)
	return "http://" + addr(httpPort)
}
