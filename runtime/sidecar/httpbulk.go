package sidecar

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/dapr/components-contrib/contenttype"
	"github.com/dapr/components-contrib/pubsub"
	apierrors "github.com/dapr/dapr/pkg/api/errors"
	"github.com/dapr/dapr/pkg/messages/errorcodes"
	kiterrors "github.com/dapr/kit/errors"

	port "github.com/funcd/funcd/runtime/pubsub"
)

// bulkEntryJSON is one entry of an HTTP bulk publish body.
type bulkEntryJSON struct {
	EntryID     string            `json:"entryId,omitempty"`
	Event       any               `json:"event"`
	ContentType string            `json:"contentType"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// bulkResponseJSON is daprd's HTTP BulkPublishResponse.
type bulkResponseJSON struct {
	FailedEntries []bulkFailedJSON `json:"failedEntries"`
	ErrorCode     string           `json:"errorCode,omitempty"`
}

type bulkFailedJSON struct {
	EntryID string `json:"entryId"`
	Error   string `json:"error,omitempty"`
}

var errContentTypeMismatch = errors.New("error: mismatch between contentType and event")

// handleBulkPublish mirrors daprd pkg/api/http/http.go onBulkPublish.
func (s *Sidecar) handleBulkPublish(w http.ResponseWriter, r *http.Request) {
	name, topic, err := pathTarget(r, bulkPrefix)
	if err != nil {
		s.writeError(w, err, name, topic)
		return
	}
	req, p, err := s.bulkRequest(r, name, topic)
	if err != nil {
		s.writeError(w, err, name, topic)
		return
	}
	res, err := port.BulkPublish(r.Context(), p, req)
	if err != nil {
		s.writeBulkFailure(w, name, topic, res, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// bulkRequest validates, decodes and encodes the entries of r.
func (s *Sidecar) bulkRequest(r *http.Request, name, topic string) (*pubsub.BulkPublishRequest, port.Publisher, error) {
	md := queryMetadata(r.URL)
	p, err := s.resolve(name, topic, md, md)
	if err != nil {
		return nil, nil, err
	}
	raw, err := rawPayload(name, md)
	if err != nil {
		return nil, nil, err
	}
	in := make([]bulkEntryJSON, 0)
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		if apiErr, ok := refusal(name, topic, err); ok {
			return nil, nil, apiErr
		}
		return nil, nil, apierrors.PubSub(name).WithAppError(s.appID, nil).WithTopic(topic).UnmarshalEvents(err)
	}
	entries, err := s.httpEntries(name, topic, md, in)
	if err == nil {
		err = s.encodeEntries(p, name, topic, entries, raw, traceFromHTTP(r.Header))
	}
	return &pubsub.BulkPublishRequest{PubsubName: name, Topic: topic, Entries: entries, Metadata: md}, p, err
}

// httpEntries converts entries in daprd's order: event bytes, metadata, id.
func (s *Sidecar) httpEntries(name, topic string, md map[string]string, in []bulkEntryJSON) ([]pubsub.BulkMessageEntry, error) {
	seen := make(map[string]struct{}, len(in))
	entries := make([]pubsub.BulkMessageEntry, len(in))
	for i, e := range in {
		data, err := eventBytes(e.Event, e.ContentType)
		if err != nil {
			return nil, apierrors.PubSub(name).WithAppError(s.appID, err).WithTopic(topic).MarshalEnvelope()
		}
		if _, dup := seen[e.EntryID]; dup || e.EntryID == "" {
			return nil, apierrors.PubSub(name).WithAppError(s.appID, errEntryID).WithTopic(topic).MarshalEvents()
		}
		seen[e.EntryID] = struct{}{}
		entries[i] = pubsub.BulkMessageEntry{
			EntryId: e.EntryID, Event: data, ContentType: e.ContentType,
			Metadata: entryMetadata(md, e.Metadata),
		}
	}
	return entries, nil
}

// eventBytes is daprd's ConvertEventToBytes.
func eventBytes(event any, ct string) ([]byte, error) {
	switch {
	case contenttype.IsBinaryContentType(ct):
		str, ok := event.(string)
		if !ok {
			return nil, errContentTypeMismatch
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return nil, fmt.Errorf("error: unable to decode base64 application/octect-stream data: %w", err)
		}
		return b, nil
	case contenttype.IsStringContentType(ct):
		if str, ok := event.(string); ok {
			return []byte(str), nil
		}
		return nil, errContentTypeMismatch
	case contenttype.IsJSONContentType(ct), contenttype.IsCloudEventContentType(ct):
		b, err := json.Marshal(event)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", errContentTypeMismatch.Error(), err)
		}
		return b, nil
	}
	return nil, errContentTypeMismatch
}

// writeBulkFailure answers a failed bulk publish like daprd: forbidden and
// not-found as errors, anything else with the failed entries in the body and
// the metadata.responseData / metadata.error headers.
func (s *Sidecar) writeBulkFailure(w http.ResponseWriter, name, topic string, res pubsub.BulkPublishResponse, err error) {
	apiErr, isErr := s.bulkError(name, topic, err)
	kerr, ok := kiterrors.FromError(apiErr)
	if isErr || !ok {
		s.writeError(w, apiErr, name, topic)
		return
	}
	_ = s.refused(apiErr, name, topic)
	body := bulkResponseJSON{
		FailedEntries: make([]bulkFailedJSON, 0, len(res.FailedEntries)),
		ErrorCode:     errorcodes.PubsubPublishMessage.Code,
	}
	for _, f := range res.FailedEntries {
		e := bulkFailedJSON{EntryID: f.EntryId}
		if f.Error != nil {
			e.Error = f.Error.Error()
		}
		body.FailedEntries = append(body.FailedEntries, e)
	}
	b, _ := json.Marshal(body)
	w.Header().Set(metadataPrefix+"responseData", string(b))
	w.Header().Set(metadataPrefix+"error", kerr.Error())
	writeJSON(w, kerr.HTTPStatusCode(), b)
}
