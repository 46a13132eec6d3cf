package dapr

import (
	"context"
	"net"
	"sync"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	daprc "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/funcd/funcd/runtime/pubsub"
)

// fakeDaprd is an in-process Dapr gRPC API: it records publishes, serves
// streaming subscriptions from a channel of events and collects the answers.
type fakeDaprd struct {
	runtimev1pb.UnimplementedDaprServer

	events  chan *runtimev1pb.TopicEventRequest
	answers chan *runtimev1pb.SubscribeTopicEventsRequestProcessedAlpha1
	initial chan *runtimev1pb.SubscribeTopicEventsRequestInitialAlpha1
	breaks  chan struct{} // a receive ends the current stream with an error

	// component, when set, is the component behind the bulk publish API,
	// which is otherwise unimplemented, as in a daprd without it.
	component contrib.PubSub
	// rejectPublish, when set, fails the PublishEvent calls it returns an
	// error for.
	rejectPublish func(*runtimev1pb.PublishEventRequest) error

	mu         sync.Mutex
	published  []*runtimev1pb.PublishEventRequest
	bulk       []*runtimev1pb.BulkPublishRequest
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
	if f.rejectPublish != nil {
		if err := f.rejectPublish(req); err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, req)
	return &emptypb.Empty{}, nil
}

// BulkPublishEventAlpha1 does what daprd does with the entries, without
// building envelopes: it hands them whole to a component with the
// BULK_PUBSUB feature, else publishes them one by one (pubsub.PublishEach
// mirrors daprd's defaultBulkPublisher). An error comes back without
// entries, as from daprd.
func (f *fakeDaprd) BulkPublishEventAlpha1(ctx context.Context, in *runtimev1pb.BulkPublishRequest) (*runtimev1pb.BulkPublishResponse, error) {
	f.mu.Lock()
	f.bulk = append(f.bulk, in)
	f.mu.Unlock()
	if f.component == nil {
		return nil, status.Error(codes.Unimplemented, "unknown method BulkPublishEventAlpha1")
	}
	req := &contrib.BulkPublishRequest{PubsubName: in.GetPubsubName(), Topic: in.GetTopic(), Metadata: in.GetMetadata()}
	for _, e := range in.GetEntries() {
		req.Entries = append(req.Entries, contrib.BulkMessageEntry{EntryId: e.GetEntryId(), Event: e.GetEvent(), ContentType: e.GetContentType(), Metadata: e.GetMetadata()})
	}
	var res contrib.BulkPublishResponse
	var err error
	if bp, ok := f.component.(contrib.BulkPublisher); ok && contrib.FeatureBulkPublish.IsPresent(f.component.Features()) {
		res, err = bp.BulkPublish(ctx, req)
	} else {
		res, err = pubsub.PublishEach(ctx, componentPublisher{f.component, in.GetPubsubName()}, req)
	}
	if err != nil {
		return nil, status.Error(codes.Internal, err.Error())
	}
	out := &runtimev1pb.BulkPublishResponse{}
	for _, e := range res.FailedEntries {
		out.FailedEntries = append(out.FailedEntries, &runtimev1pb.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: e.Error.Error()})
	}
	return out, nil
}

// componentPublisher publishes to a components-contrib component.
type componentPublisher struct {
	c    contrib.PubSub
	name string
}

func (p componentPublisher) Publish(ctx context.Context, m *pubsub.Message) error {
	return p.c.Publish(ctx, &contrib.PublishRequest{Data: m.Data, PubsubName: p.name, Topic: m.Topic, Metadata: m.Metadata, ContentType: &m.ContentType})
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
