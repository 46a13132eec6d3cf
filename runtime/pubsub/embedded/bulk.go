package embedded

import (
	"context"
	"fmt"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/pubsub"
)

var (
	_ pubsub.FeatureReporter = (*PubSub)(nil)
	_ pubsub.BulkPublisher   = (*PubSub)(nil)
)

// Features are the component's own, as daprd reads them. None of the types
// this adapter opens reports pubsub.FeatureMessageTTL, so the publish API
// keeps writing ttlInSeconds into the envelope's "expiration" field.
func (p *PubSub) Features() []contrib.Feature { return p.pub.Features() }

// BulkPublish hands req whole to the component when it takes bulk
// publishes (pubsub.kafka), or to the embedded broker in one pipelined
// write; otherwise it publishes entry by entry, as daprd does for
// components without the BULK_PUBSUB feature.
func (p *PubSub) BulkPublish(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	if p.inProcess != nil {
		return p.publishBatch(ctx, req)
	}
	bp, ok := p.pub.(contrib.BulkPublisher)
	if !ok {
		return pubsub.PublishEach(ctx, p, req)
	}
	if err := p.ready(req.Topic); err != nil {
		return allFailed(req, err), err
	}
	whole := *req
	whole.PubsubName = p.name
	res, err := bp.BulkPublish(ctx, &whole)
	if err != nil {
		return res, fmt.Errorf("bulk publish to %s/%s: %w", p.name, req.Topic, err)
	}
	return res, nil
}

// publishBatch publishes req's entries to the embedded broker; failed
// entries carry the error a single publish would return, and the first of
// them is returned.
func (p *PubSub) publishBatch(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	if len(req.Entries) == 0 {
		return contrib.BulkPublishResponse{FailedEntries: []contrib.BulkPublishResponseFailedEntry{}}, nil
	}
	if err := p.ready(req.Topic); err != nil {
		return allFailed(req, err), err
	}
	var (
		res   = contrib.BulkPublishResponse{FailedEntries: []contrib.BulkPublishResponseFailedEntry{}}
		first error
	)
	for i, err := range p.inProcess.publishBatch(ctx, req.Topic, req.Entries) {
		if err == nil {
			continue
		}
		e := req.Entries[i]
		err = p.publishError(req.Topic, e.Event, err)
		res.FailedEntries = append(res.FailedEntries, contrib.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err})
		if first == nil {
			first = err
		}
	}
	return res, first
}

// allFailed reports every entry of req as failed with err.
func allFailed(req *contrib.BulkPublishRequest, err error) contrib.BulkPublishResponse {
	failed := make([]contrib.BulkPublishResponseFailedEntry, len(req.Entries))
	for i, e := range req.Entries {
		failed[i] = contrib.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err}
	}
	return contrib.BulkPublishResponse{FailedEntries: failed}
}
