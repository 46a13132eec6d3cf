package pubsub

import (
	"context"
	"sync"

	contrib "github.com/dapr/components-contrib/pubsub"
	"golang.org/x/sync/errgroup"
)

// Publisher is the publishing half of PubSub: what the publish API needs.
// A Publisher may implement FeatureReporter and BulkPublisher; a wrapper
// around one (access rules, tracing, metrics) implements both and passes
// them on, so no capability is hidden on the way to the component.
type Publisher interface {
	// Publish stores msg durably on its topic before it returns.
	Publish(ctx context.Context, msg *Message) error
}

// FeatureReporter is an optional capability of a Publisher: the features
// of the component behind it, as components-contrib names them.
type FeatureReporter interface {
	Features() []contrib.Feature
}

// BulkPublisher is an optional capability of a Publisher: it takes the
// entries of req, all on req.Topic, in one call, as a components-contrib
// component with the BULK_PUBSUB feature does. Entries' Event is what
// Message.Data would be.
type BulkPublisher interface {
	BulkPublish(ctx context.Context, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error)
}

// Features returns p's features, or none when p does not report them.
func Features(p Publisher) []contrib.Feature {
	if f, ok := p.(FeatureReporter); ok {
		return f.Features()
	}
	return nil
}

// BulkPublish publishes req with p's BulkPublish, or entry by entry with
// PublishEach when p has no such capability.
func BulkPublish(ctx context.Context, p Publisher, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	if bp, ok := p.(BulkPublisher); ok {
		return bp.BulkPublish(ctx, req)
	}
	return PublishEach(ctx, p, req)
}

// bulkConcurrency is daprd's defaultBulkPublishMaxConcurrency.
const bulkConcurrency = 100

// PublishEach mirrors daprd's defaultBulkPublisher, for components without
// the BULK_PUBSUB feature: concurrent Publish calls, failed entries
// collected, the first error returned.
func PublishEach(ctx context.Context, p Publisher, req *contrib.BulkPublishRequest) (contrib.BulkPublishResponse, error) {
	var (
		eg     errgroup.Group
		mu     sync.Mutex
		failed = make([]contrib.BulkPublishResponseFailedEntry, 0, len(req.Entries))
	)
	eg.SetLimit(bulkConcurrency)
	for i := range req.Entries {
		e := &req.Entries[i]
		eg.Go(func() error {
			err := p.Publish(ctx, &Message{Topic: req.Topic, Data: e.Event, Metadata: e.Metadata, ContentType: e.ContentType})
			if err != nil {
				mu.Lock()
				failed = append(failed, contrib.BulkPublishResponseFailedEntry{EntryId: e.EntryId, Error: err})
				mu.Unlock()
			}
			return err
		})
	}
	err := eg.Wait()
	return contrib.BulkPublishResponse{FailedEntries: failed}, err
}
