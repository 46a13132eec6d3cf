package dapr

import (
	"context"
	"net"
	"sync"
	"testing"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	daprc "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"
)

// fakeDaprd is an in-process Dapr gRPC API: it records publishes, serves
// streaming subscriptions from a channel of events and collects the answers.
type fakeDaprd struct {
	runtimev1pb.UnimplementedDaprServer

	events  chan *runtimev1pb.TopicEventRequest
	answers chan *runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1
	initial chan *runtimev1pb.SubscribeTopicEventsRequestInitialAlpha1
	breaks  chan struct{} // a receive ends the current stream with an error

	mu         sync.Mutex
	published  []*runtimev1pb.PublishEventRequest
	components []string
}

func newFakeDaprd() *fakeDaprd {
	return &fakeDaprd{
		events:  make(chan *runtimev1pb.TopicEventRequest, 16),
		answers: make(chan *runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1, 16),
		initial: make(chan *runtimev1pb.SubscribeTopicEventsRequestInitialAlpha1, 16),
		breaks:  make(chan struct{}, 1),
	}
}

func (f *fakeDaprd) PublishEvent(_ context.Context, req *runtimev1pb.PublishEventRequest) (*emptypb.Empty, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, req)
	return &emptypb.Empty{}, nil
}

func (f *fakeDaprd) GetMetadata(context.Context, *runtimev1pb.GetMetadataRequest) (*runtimev1pb.GetMetadataResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	resp := &runtimev1pb.GetMetadataResponse{Id: "fake"}
	for _, n := range f.components {
		resp.RegisteredComponents = append(resp.RegisteredComponents, &runtimev1pb.RegisteredComponents{Name: n, Type: "pubsub.redis", Version: "v1"})
	}
	return resp, nil
}

func (f *fakeDaprd) SubscribeTopicEventsAlpha1(s runtimev1pb.Dapr_SubscribeTopicEventsAlpha1Server) error {
	first, err := s.Recv()
	if err != nil {
		return err
	}
	f.initial <- first.GetInitialRequest()
	if err := s.Send(&runtimev1pb.SubscribeTopicEventsResponseAlpha1{
		SubscribeTopicEventsResponseType: &runtimev1pb.SubscribeTopicEventsResponseAlpha1_InitialResponse{
			InitialResponse: &runtimev1pb.SubscribeTopicEventsResponseInitialAlpha1{},
		},
	}); err != nil {
		return err
	}
	closed := make(chan struct{}) // the client half-closed: end the stream, as daprd does
	go func() {
		defer close(closed)
		for {
			req, err := s.Recv()
			if err != nil {
				return
			}
			f.answers <- req.GetEventProcessed()
		}
	}()
	for {
		select {
		case <-closed:
			return nil
		case <-s.Context().Done():
			return s.Context().Err()
		case <-f.breaks:
			return errBroken
		case ev := <-f.events:
			if err := s.Send(&runtimev1pb.SubscribeTopicEventsResponseAlpha1{
				SubscribeTopicEventsResponseType: &runtimev1pb.SubscribeTopicEventsResponseAlpha1_EventMessage{EventMessage: ev},
			}); err != nil {
				return err
			}
		}
	}
}

func (f *fakeDaprd) lastPublished(t *testing.T) *runtimev1pb.PublishEventRequest {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.published) == 0 {
		t.Fatal("fake daprd got no publish")
	}
	return f.published[len(f.published)-1]
}

// start serves f over an in-memory listener and returns an SDK client on it.
func (f *fakeDaprd) start(t *testing.T) daprc.Client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	runtimev1pb.RegisterDaprServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///fake-daprd",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("dial fake daprd: %v", err)
	}
	c := daprc.NewClientWithConnection(conn)
	t.Cleanup(func() {
		c.Close()
		srv.Stop()
	})
	return c
}
