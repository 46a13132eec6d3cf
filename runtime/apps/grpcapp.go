package apps

import (
	"context"
	"fmt"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/funcd/funcd/runtime/resources"
)

// maxAppMessage bounds what funcd reads from a gRPC app.
const maxAppMessage = 4 << 20

// dialApp connects to a gRPC app's AppCallback service.
func dialApp(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxAppMessage)))
}

// discoverGRPC asks a gRPC app for its subscriptions (ListTopicSubscriptions),
// as daprd does; Unimplemented means none.
func discoverGRPC(ctx context.Context, conn *grpc.ClientConn, token string) ([]programmatic, error) {
	if token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "dapr-api-token", token)
	}
	resp, err := runtimev1pb.NewAppCallbackClient(conn).ListTopicSubscriptions(ctx, &emptypb.Empty{})
	if status.Code(err) == codes.Unimplemented {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ListTopicSubscriptions: %w", err)
	}
	var out []programmatic
	for i, s := range resp.GetSubscriptions() {
		p := programmatic{PubsubName: s.GetPubsubName(), Topic: s.GetTopic(), Metadata: s.GetMetadata(),
			DeadLetterTopic: s.GetDeadLetterTopic()}
		if r := s.GetRoutes(); r != nil {
			p.Routes = &resources.Routes{Default: r.GetDefault()}
			for _, rule := range r.GetRules() {
				p.Routes.Rules = append(p.Routes.Rules, resources.Rule{Match: rule.GetMatch(), Path: rule.GetPath()})
			}
		}
		if bs := s.GetBulkSubscribe(); bs != nil {
			p.BulkSubscribe = resources.BulkSubscribe{Enabled: bs.GetEnabled(), MaxMessagesCount: bs.GetMaxMessagesCount(),
				MaxAwaitDurationMs: bs.GetMaxAwaitDurationMs()}
		}
		if p.PubsubName == "" || p.Topic == "" {
			return nil, fmt.Errorf("ListTopicSubscriptions: item %d: pubsub name and topic are required", i)
		}
		out = append(out, p)
	}
	return out, nil
}
