package dapr

import (
	"context"
	"errors"
	"fmt"
	"maps"

	contrib "github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/funcd/funcd/runtime/pubsub"
)

var _ pubsub.BulkPublisher = (*PubSub)(nil)

// BulkPublish hands req to the sidecar in one call (BulkPublishEventAlpha1):
// daprd gives it whole to a component that takes bulk publishes and
// publishes it entry by entry to the others. Each entry goes as Publish
// sends a message (an envelope as application/cloudevents+json, anything
// else as a raw payload). daprd reads rawPayload once per request, so a
// request that mixes envelopes and raw payloads, or a sidecar without the
// bulk API, is published entry by entry instead (pubsub.PublishEach, as
// daprd's defaultBulkPublisher does): failed entries are reported each with
// its error, and the first error is returned.
//
// daprd answers a partial failure with an error and no entries; every entry
// is then reported failed with it, as daprd's SDK does. Entries daprd
// reports failed without an error come back with their own errors, and an
// error naming the first.
func (p *PubSub) BulkPublish(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	if p.isClosed() {
		return allFailed(req, pubsub.ErrClosed), pubsub.ErrClosed
	}
	if len(req.Entries) == 0 {
		return contrib.BulkPublishResponse{FailedEntries: []contrib.BulkPublishResponseFailedEntry{}}, nil
	}
	in, ok := p.bulkRequest(req)
	if !ok {
		return pubsub.PublishEach(ctx, p, req)
	}
	res, err := runtimev1pb.NewDaprClient(p.client.GrpcClientConn()).BulkPublishEventAlpha1(ctx, in)
	if status.Code(err) == codes.Unimplemented {
		return pubsub.PublishEach(ctx, p, req)
	}
	if err != nil {
		err = fmt.Errorf("bulk publish to %s/%s: %w", p.name, req.Topic, err)
		return allFailed(req, err), err
	}
	return p.failedEntries(req.Topic, res)
}

// bulkRequest is req as daprd's bulk API takes it, each entry encoded as
// Publish encodes a message; false when some entries go as raw payloads and
// others not.
func (p *PubSub) bulkRequest(req *contrib.BulkPublishRequest) (*runtimev1pb.BulkPublishRequest, bool) {
	in := &runtimev1pb.BulkPublishRequest{PubsubName: p.name, Topic: req.Topic, Metadata: maps.Clone(req.Metadata),
		Entries: make([]*runtimev1pb.BulkPublishRequestEntry, len(req.Entries))}
	raw := 0
	for i, e := range req.Entries {
		ct, md := encoding(e.Event, e.ContentType, e.Metadata)
		if rawPayload(md) {
			raw++
		}
		in.Entries[i] = &runtimev1pb.BulkPublishRequestEntry{EntryId: e.EntryId, Event: e.Event, ContentType: ct, Metadata: md}
	}
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	switch raw {
	case 0:
		delete(in.Metadata, rawPayloadKey)
	case len(req.Entries):
		in.Metadata[rawPayloadKey] = "true"
	default:
		return nil, false
	}
	return in, true
}

// failedEntries reads daprd's answer: the entries it reports failed, and
// an error when there are any.
func (p *PubSub) failedEntries(topic string, res *runtimev1pb.BulkPublishResponse) (contrib.BulkPublishResponse, error) {
	out := contrib.BulkPublishResponse{FailedEntries: make([]contrib.BulkPublishResponseFailedEntry, 0, len(res.GetFailedEntries()))}
	for _, e := range res.GetFailedEntries() {
		out.FailedEntries = append(out.FailedEntries, contrib.BulkPublishResponseFailedEntry{EntryId: e.GetEntryId(), Error: errors.New(e.GetError())})
	}
	if len(out.FailedEntries) == 0 {
		return out, nil
	}
	first := out.FailedEntries[0]
	return out, fmt.Errorf("bulk publish to %s/%s: %d entries failed, the first (%s): %w", p.name, topic, len(out.FailedEntries), first.EntryId, first.Error)
}

// allFailed reports every entry of req as failed with err.
func allFailed(req *contrib.BulkPublishRequest, err error) contrib.BulkPublishResponse {
	failed := make([]contrib.BulkPublishResponseFailedEntry, len(req.Entries))
	for i, e := range req.Entries {
		failed[i] = contrib.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err}
	}
	return contrib.BulkPublishResponse{FailedEntries: failed}
}
