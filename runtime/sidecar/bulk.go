package sidecar

import (
	"context"
	"errors"
	"sync"

	"github.com/dapr/components-contrib/pubsub"
	apierrors "github.com/dapr/dapr/pkg/api/errors"
	"golang.org/x/sync/errgroup"
)

// bulkConcurrency is daprd's defaultBulkPublishMaxConcurrency.
const bulkConcurrency = 100

var errEntryID = errors.New("entryId is duplicated or not present for entry")

// entryMetadata merges request metadata under an entry's own, as daprd's
// PopulateMetadataForBulkPublishEntry; entries without metadata keep none.
func entryMetadata(req, entry map[string]string) map[string]string {
	if entry == nil {
		return nil
	}
	out := make(map[string]string, len(entry)+len(req))
	for k, v := range req {
		out[k] = v
	}
	for k, v := range entry {
		out[k] = v
	}
	return out
}

// encodeEntries replaces each entry's event with its envelope, unless raw.
func (s *Sidecar) encodeEntries(p Publisher, name, topic string, entries []pubsub.BulkMessageEntry, raw bool, tc traceContext) error {
	if raw {
		return nil
	}
	feats := features(p)
	for i := range entries {
		e := &entries[i]
		m := message{pubsub: name, topic: topic, contentType: e.ContentType, data: e.Event, metadata: e.Metadata, trace: tc}
		data, err := s.encode(&m, false, feats)
		if err != nil {
			return err
		}
		e.Event = data
	}
	return nil
}

// bulkPublish publishes req with p's BulkPublish, or entry by entry.
func (s *Sidecar) bulkPublish(ctx context.Context, p Publisher, req *pubsub.BulkPublishRequest) (pubsub.BulkPublishResponse, error) {
	if bp, ok := p.(BulkPublisher); ok {
		return bp.BulkPublish(ctx, req)
	}
	return publishEach(ctx, p, req)
}

// publishEach mirrors daprd's defaultBulkPublisher: concurrent Publish calls,
// failed entries collected, the first error returned.
func publishEach(ctx context.Context, p Publisher, req *pubsub.BulkPublishRequest) (pubsub.BulkPublishResponse, error) {
	var (
		eg     errgroup.Group
		mu     sync.Mutex
		failed = make([]pubsub.BulkPublishResponseFailedEntry, 0, len(req.Entries))
	)
	eg.SetLimit(bulkConcurrency)
	for i := range req.Entries {
		e := &req.Entries[i]
		eg.Go(func() error {
			err := p.Publish(ctx, &pubsub.PublishRequest{
				Data: e.Event, PubsubName: req.PubsubName, Topic: req.Topic,
				Metadata: e.Metadata, ContentType: &e.ContentType,
			})
			if err != nil {
				mu.Lock()
				failed = append(failed, pubsub.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err})
				mu.Unlock()
			}
			return err
		})
	}
	err := eg.Wait()
	return pubsub.BulkPublishResponse{FailedEntries: failed}, err
}

// bulkError maps a bulk publish error like daprd; ok is false for a plain
// publish failure, which the HTTP API answers with the failed entries.
func (s *Sidecar) bulkError(name, topic string, err error) (apiErr error, ok bool) {
	if apiErr, ok := refusal(name, topic, err); ok {
		return apiErr, true
	}
	switch {
	case errors.Is(err, ErrTopicForbidden), errors.Is(err, ErrPubSubNotFound):
		return s.publishError(name, topic, err), true
	default:
		return apierrors.PubSub(name).PublishMessage(topic, err), false
	}
}
