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
// publishes (pubsub.kafka); otherwise it publishes entry by entry, as
// daprd does for components without the BULK_PUBSUB feature.
func (p *PubSub) BulkPublish(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	bp, ok := p.pub.(contrib.BulkPublisher)
	if !ok || p.inProcess != nil {
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

// allFailed reports every entry of req as failed with err.
func allFailed(req *contrib.BulkPublishRequest, err error) contrib.BulkPublishResponse {
	failed := make([]contrib.BulkPublishResponseFailedEntry, len(req.Entries))
	for i, e := range req.Entries {
		failed[i] = contrib.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err}
	}
	return contrib.BulkPublishResponse{FailedEntries: failed}
}
