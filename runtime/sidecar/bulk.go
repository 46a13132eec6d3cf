package sidecar

import (
	"errors"

	"github.com/dapr/components-contrib/pubsub"
	apierrors "github.com/dapr/dapr/pkg/api/errors"

	port "github.com/funcd/funcd/runtime/pubsub"
)

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
func (s *Sidecar) encodeEntries(p port.Publisher, name, topic string, entries []pubsub.BulkMessageEntry, raw bool, tc traceContext) error {
	if raw {
		return nil
	}
	feats := port.Features(p)
	for i := range entries {
		e := &entries[i]
		m := message{pubsub: name, topic: topic, contentType: e.ContentType, data: e.Event, metadata: e.Metadata, trace: tc}
		data, _, err := s.encode(&m, false, feats)
		if err != nil {
			return err
		}
		e.Event = data
	}
	return nil
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
