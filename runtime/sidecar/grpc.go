package sidecar

import (
	"context"

	"github.com/dapr/components-contrib/pubsub"
	apierrors "github.com/dapr/dapr/pkg/api/errors"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/emptypb"

	port "github.com/funcd/funcd/runtime/pubsub"
)

// grpcAPI is the Dapr gRPC service; methods other than publish, metadata
// and streaming subscriptions answer Unimplemented (with a message that
// says so, under NewGRPCServer).
type grpcAPI struct {
	runtimev1pb.UnimplementedDaprServer
	s *Sidecar
}

var _ runtimev1pb.DaprServer = (*grpcAPI)(nil)

// NewGRPCServer returns a gRPC server with the Dapr service registered, the
// API token check, panic recovery and daprd's message size limits; opts are
// appended.
func (s *Sidecar) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	base := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(s.cfg.MaxBodyBytes),
		grpc.MaxSendMsgSize(s.cfg.MaxBodyBytes),
		// The token is checked before a message is read, so a caller
		// without it cannot make the server hold 4 MiB messages.
		grpc.InTapHandle(s.authTap),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: s.cfg.IdleTimeout}),
		grpc.ChainUnaryInterceptor(s.recoverUnary, s.authUnary, unsupportedUnary),
		grpc.ChainStreamInterceptor(s.recoverStream, s.authStream, unsupportedStream),
		grpc.UnknownServiceHandler(unknownService),
	}
	gs := grpc.NewServer(append(base, opts...)...)
	s.RegisterGRPC(gs)
	return gs
}

// RegisterGRPC registers the Dapr service on gs, for callers that build their
// own server: they must then add AuthInterceptors themselves when a token is
// set.
func (s *Sidecar) RegisterGRPC(gs grpc.ServiceRegistrar) {
	runtimev1pb.RegisterDaprServer(gs, &grpcAPI{s: s})
}

// PublishEvent mirrors daprd pkg/api/grpc/grpc.go PublishEvent.
func (a *grpcAPI) PublishEvent(ctx context.Context, in *runtimev1pb.PublishEventRequest) (*emptypb.Empty, error) {
	s := a.s
	name, topic, md := in.GetPubsubName(), in.GetTopic(), in.GetMetadata()
	p, raw, err := s.resolveGRPC(name, topic, md)
	if err != nil {
		return nil, s.refused(err, name, topic)
	}
	data := in.GetData()
	if data == nil {
		data = []byte{}
	}
	m := message{
		pubsub: name, topic: topic, contentType: in.GetDataContentType(),
		data: data, metadata: md, trace: incomingTrace(ctx),
	}
	if err := s.publish(ctx, p, &m, raw); err != nil {
		return nil, s.refused(err, name, topic)
	}
	return &emptypb.Empty{}, nil
}

// BulkPublishEventAlpha1 mirrors daprd's BulkPublishEventAlpha1.
func (a *grpcAPI) BulkPublishEventAlpha1(ctx context.Context, in *runtimev1pb.BulkPublishRequest) (*runtimev1pb.BulkPublishResponse, error) {
	s := a.s
	name, topic, md := in.GetPubsubName(), in.GetTopic(), in.GetMetadata()
	p, raw, err := s.resolveGRPC(name, topic, md)
	if err != nil {
		return nil, s.refused(err, name, topic)
	}
	entries, err := s.grpcEntries(p, in, raw, incomingTrace(ctx))
	if err != nil {
		return nil, s.refused(err, name, topic)
	}
	req := &pubsub.BulkPublishRequest{PubsubName: name, Topic: topic, Entries: entries, Metadata: md}
	res, err := port.BulkPublish(ctx, p, req)
	if err != nil {
		apiErr, _ := s.bulkError(name, topic, err)
		return nil, s.refused(apiErr, name, topic)
	}
	return grpcBulkResponse(res), nil
}

// resolveGRPC is daprd's gRPC validateAndGetPubsubAndTopic: the rawPayload
// check comes with the name checks.
func (s *Sidecar) resolveGRPC(name, topic string, md map[string]string) (port.Publisher, bool, error) {
	p, err := s.resolve(name, topic, md, nil)
	if err != nil {
		return nil, false, err
	}
	raw, err := rawPayload(name, md)
	return p, raw, err
}

// grpcEntries validates and encodes bulk entries one after the other, so the
// first bad entry decides the error, as in daprd.
func (s *Sidecar) grpcEntries(p port.Publisher, in *runtimev1pb.BulkPublishRequest, raw bool, tc traceContext) ([]pubsub.BulkMessageEntry, error) {
	name, topic := in.GetPubsubName(), in.GetTopic()
	seen := make(map[string]struct{}, len(in.GetEntries()))
	entries := make([]pubsub.BulkMessageEntry, len(in.GetEntries()))
	for i, e := range in.GetEntries() {
		if _, dup := seen[e.GetEntryId()]; dup || e.GetEntryId() == "" {
			return nil, apierrors.PubSub(name).WithAppError(s.appID, errEntryID).WithTopic(topic).MarshalEvents()
		}
		seen[e.GetEntryId()] = struct{}{}
		entries[i] = pubsub.BulkMessageEntry{
			EntryId: e.GetEntryId(), ContentType: e.GetContentType(), Event: e.GetEvent(),
			Metadata: entryMetadata(in.GetMetadata(), e.GetMetadata()),
		}
		if err := s.encodeEntries(p, name, topic, entries[i:i+1], raw, tc); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

func grpcBulkResponse(res pubsub.BulkPublishResponse) *runtimev1pb.BulkPublishResponse {
	out := &runtimev1pb.BulkPublishResponse{
		FailedEntries: make([]*runtimev1pb.BulkPublishResponseFailedEntry, 0, len(res.FailedEntries)),
	}
	for _, f := range res.FailedEntries {
		e := &runtimev1pb.BulkPublishResponseFailedEntry{EntryId: f.EntryId}
		if f.Error != nil {
			e.Error = f.Error.Error()
		}
		out.FailedEntries = append(out.FailedEntries, e)
	}
	return out
}

// GetMetadata answers with the app id and, when Components is a Lister, the
// pub/sub components.
func (a *grpcAPI) GetMetadata(context.Context, *runtimev1pb.GetMetadataRequest) (*runtimev1pb.GetMetadataResponse, error) {
	return &runtimev1pb.GetMetadataResponse{
		Id:                   a.s.appID,
		RegisteredComponents: a.s.registeredComponents(),
	}, nil
}

func incomingTrace(ctx context.Context) traceContext {
	md, _ := metadata.FromIncomingContext(ctx)
	return traceFromGRPC(md)
}

// refused logs a refused or failed call once, at Debug as daprd does, and
// returns err.
func (s *Sidecar) refused(err error, name, topic string) error {
	s.log.Debug("publish refused", "pubsub", name, "topic", topic, "error", err)
	return err
}
