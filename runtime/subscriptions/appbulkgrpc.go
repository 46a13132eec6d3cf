package subscriptions

import (
	"context"
	"errors"
	"fmt"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"go.opentelemetry.io/otel/propagation"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/delivery"
)

// AppBulkCallback is an optional capability of App.GRPC: a gRPC app that
// takes bulk deliveries (OnBulkTopicEventAlpha1 of AppCallbackAlpha).
type AppBulkCallback interface {
	OnBulkTopicEventAlpha1(ctx context.Context, in *runtimev1pb.TopicEventBulkRequest, opts ...grpc.CallOption) (*runtimev1pb.TopicEventBulkResponse, error)
}

// postGRPCAppBatch delivers a batch to a gRPC app in one
// OnBulkTopicEventAlpha1 call, as daprd's gRPC postman does, and returns
// each entry's outcome: Unimplemented drops them all, another error
// retries them all; SUCCESS acknowledges, DROP dead-letters, RETRY, an
// unknown or missing status retries.
func (b *Binding) postGRPCAppBatch(ctx context.Context, s *subscription, target string, items []*item, call bulkCall) ([]delivery.Outcome, error) {
	outcomes := make([]delivery.Outcome, len(items))
	client, ok := b.cfg.App.GRPC.(AppBulkCallback)
	if !ok {
		fillOutcome(outcomes, delivery.Retry)
		return outcomes, errors.New("the app's gRPC client cannot make bulk calls")
	}
	req := &runtimev1pb.TopicEventBulkRequest{
		Id: call.id, Topic: s.res.Topic, PubsubName: s.res.PubsubName, Type: "com.dapr.event.sent.bulk",
		Path: target, Metadata: map[string]string{metaPubSubName: s.res.PubsubName},
	}
	index := make(map[string]int, len(items))
	for i, it := range items {
		entry, err := grpcBulkEntry(it, call.entryIDs[i], s)
		if err != nil {
			fillOutcome(outcomes, delivery.DeadLetter)
			return outcomes, err
		}
		index[entry.GetEntryId()] = i
		req.Entries = append(req.Entries, entry)
	}
	md := metadata.MD{}
	if tok := b.cfg.App.Token; tok != "" {
		md.Set("dapr-api-token", tok)
	}
	// The batch span's context, which links each entry's trace.
	tc := propagation.MapCarrier{}
	traceContext.Inject(ctx, tc)
	for k, v := range tc {
		md.Set(k, v)
	}
	ctx = metadata.NewOutgoingContext(ctx, md)
	ctx, cancel := context.WithTimeout(ctx, s.policies[target].Timeout)
	defer cancel()
	resp, err := client.OnBulkTopicEventAlpha1(ctx, req)
	if err != nil {
		if status.Code(err) == codes.Unimplemented {
			fillOutcome(outcomes, delivery.Drop)
		} else {
			fillOutcome(outcomes, delivery.Retry)
		}
		return outcomes, fmt.Errorf("OnBulkTopicEventAlpha1: %w", err)
	}
	fillOutcome(outcomes, delivery.Retry) // an entry without a status is retried
	for _, st := range resp.GetStatuses() {
		i, ok := index[st.GetEntryId()]
		if !ok {
			continue
		}
		switch st.GetStatus() {
		case runtimev1pb.TopicEventResponse_SUCCESS:
			outcomes[i] = delivery.Ack
		case runtimev1pb.TopicEventResponse_DROP:
			outcomes[i] = delivery.DeadLetter
		default:
			outcomes[i] = delivery.Retry
		}
	}
	return outcomes, errors.New("app answered its bulk delivery with status RETRY, an unknown status or none for this entry")
}

// grpcBulkEntry is an item as daprd's FetchEntry makes it: the raw bytes
// with rawPayload, else the cloud event's fields.
func grpcBulkEntry(it *item, entryID string, s *subscription) (*runtimev1pb.TopicEventBulkRequestEntry, error) {
	entry := &runtimev1pb.TopicEventBulkRequestEntry{EntryId: entryID, ContentType: it.msg.ContentType, Metadata: it.msg.Metadata}
	if s.raw {
		entry.Event = &runtimev1pb.TopicEventBulkRequestEntry_Bytes{Bytes: it.msg.Data}
		return entry, nil
	}
	single, err := appGRPCEvent{fields: it.fields, topic: s.res.Topic, pubsub: s.res.PubsubName}.request()
	if err != nil {
		return nil, err
	}
	ce := &runtimev1pb.TopicEventCERequest{Id: single.GetId(), Source: single.GetSource(), Type: single.GetType(),
		SpecVersion: single.GetSpecVersion(), DataContentType: single.GetDataContentType(), Extensions: single.GetExtensions()}
	if _, b64 := it.fields["data_base64"]; !b64 { // daprd's bulk entries carry only "data"
		ce.Data = single.GetData()
	}
	entry.Event = &runtimev1pb.TopicEventBulkRequestEntry_CloudEvent{CloudEvent: ce}
	return entry, nil
}
