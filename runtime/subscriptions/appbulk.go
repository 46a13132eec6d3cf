package subscriptions

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/funcd/funcd/runtime/delivery"
)

// appBulkItem is one entry of a bulk delivery to a Dapr app, as daprd's
// BulkSubscribeMessageItem.
type appBulkItem struct {
	EntryID     string            `json:"entryId"`
	Event       any               `json:"event"`
	Metadata    map[string]string `json:"metadata"`
	ContentType string            `json:"contentType,omitempty"`
}

// appBulk is a batch as daprd's HTTP postman sends it to an app with bulk
// subscribe: one POST, Content-Type application/json, the bulk envelope.
type appBulk struct {
	body  []byte
	route string
	first string
	token string
}

func (a appBulk) ID() string   { return a.first }
func (a appBulk) Path() string { return a.route }

// outcome is only the whole request's: per-entry statuses are read by
// deliverAppBatch.
func (a appBulk) Outcome(res delivery.Result, err error) delivery.Outcome {
	return ClassifyApp(res.Status, nil, err)
}

func (a appBulk) Write(_ context.Context, req *http.Request) error {
	req.Body = io.NopCloser(bytes.NewReader(a.body))
	req.ContentLength = int64(len(a.body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(a.body)), nil }
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("dapr-api-token", a.token)
	}
	return nil
}

// bulkEntry is an item's entry: its cloud event as a JSON object, or with
// rawPayload its bytes base64-encoded, as daprd writes them.
func bulkEntry(it *item, entryID string, raw bool) appBulkItem {
	e := appBulkItem{EntryID: entryID, Metadata: it.msg.Metadata, ContentType: it.msg.ContentType}
	if e.Metadata == nil {
		e.Metadata = map[string]string{}
	}
	if raw {
		e.Event = base64.StdEncoding.EncodeToString(it.msg.Data)
		if e.ContentType == "" {
			e.ContentType = "application/octet-stream"
		}
		return e
	}
	e.Event = json.RawMessage(it.msg.Data)
	if e.ContentType == "" {
		e.ContentType = cloudEventContentType
	}
	return e
}

// appBulkResponse is an app's answer to a bulk delivery.
type appBulkResponse struct {
	Statuses []struct {
		EntryID string `json:"entryId"`
		Status  string `json:"status"`
	} `json:"statuses"`
}

// deliverAppBatch delivers a batch to a Dapr app in bulk, retrying the
// entries that fail under the subscription's Resiliency policy
// (retryAppBatch), and settles each message by its entry's final outcome:
// SUCCESS acknowledges, DROP dead-letters; RETRY, an unknown or missing
// status, still failing when the policy is spent, dead-letters when there
// is a deadLetterTopic and is handed back to the broker otherwise. 404
// drops every entry.
func (b *Binding) deliverAppBatch(s *subscription, target string, items []*item) {
	errs := make([]error, len(items))
	release, err := s.acquire(b.life)
	if err != nil {
		fill(errs, err)
	} else {
		ctx, span := b.startBatch(b.life, s, items, target)
		outcomes, cause := b.retryAppBatch(ctx, s, target, items)
		endBatch(span, outcomes, cause)
		release()
		for i, it := range items {
			errs[i] = b.settleOne(s, target, it, outcomes[i], cause)
		}
	}
	for i, it := range items {
		it.done <- errs[i]
	}
}

// postAppBatch makes one bulk call of the entries of items (with their
// ids in call) and returns each entry's outcome. The call's traceparent is
// the batch span's in ctx, which links each entry's trace.
func (b *Binding) postAppBatch(ctx context.Context, s *subscription, target string, items []*item, call bulkCall) ([]delivery.Outcome, error) {
	outcomes := make([]delivery.Outcome, len(items))
	entries := make([]appBulkItem, len(items))
	index := make(map[string]int, len(items))
	for i, it := range items {
		entries[i] = bulkEntry(it, call.entryIDs[i], s.raw)
		index[entries[i].EntryID] = i
	}
	body, err := json.Marshal(map[string]any{
		"id": call.id, "type": "com.dapr.event.sent.bulk", "topic": s.res.Topic,
		"pubsubname": s.res.PubsubName, "metadata": map[string]string{metaPubSubName: s.res.PubsubName}, "entries": entries,
	})
	if err != nil {
		fillOutcome(outcomes, delivery.DeadLetter)
		return outcomes, delivery.Permanentf("encode bulk request: %w", err)
	}
	pol := s.policies[target]
	res, err := b.deliverer.Post(ctx, target, appBulk{body: body, route: target, first: items[0].ev.ID(), token: b.cfg.App.Token}, pol.Timeout)
	whole := ClassifyApp(res.Status, nil, err)
	switch {
	case err != nil:
		fillOutcome(outcomes, whole)
		return outcomes, err
	case whole != delivery.Ack:
		fillOutcome(outcomes, whole)
		return outcomes, fmt.Errorf("app answered %d to a bulk delivery: %.200s", res.Status, res.Body)
	}
	var answer appBulkResponse
	if err := json.Unmarshal(res.Body, &answer); err != nil {
		fillOutcome(outcomes, delivery.Retry)
		return outcomes, fmt.Errorf("app's answer to a bulk delivery is not {\"statuses\": [...]}: %w", err)
	}
	fillOutcome(outcomes, delivery.Retry) // an entry without a status is retried
	for _, st := range answer.Statuses {
		i, ok := index[st.EntryID]
		if !ok {
			continue
		}
		switch st.Status {
		case "SUCCESS":
			outcomes[i] = delivery.Ack
		case "DROP":
			outcomes[i] = delivery.DeadLetter
		default:
			outcomes[i] = delivery.Retry
		}
	}
	return outcomes, fmt.Errorf("app answered its bulk delivery with status RETRY, an unknown status or none for this entry")
}

func fillOutcome(out []delivery.Outcome, o delivery.Outcome) {
	for i := range out {
		out[i] = o
	}
}

// settleOne carries out one bulk entry's final outcome, like settle
// without replies.
func (b *Binding) settleOne(s *subscription, target string, it *item, o delivery.Outcome, cause error) error {
	switch o {
	case delivery.Ack:
		s.counters.delivered.Add(1)
		return nil
	case delivery.DeadLetter:
		return b.deadLetter(b.life, s, it.msg, it.ev.ID(), cause)
	case delivery.Drop:
		s.counters.dropped.Add(1)
		return nil
	case delivery.Retry:
		if s.res.DeadLetterTopic != "" {
			return b.deadLetter(b.life, s, it.msg, it.ev.ID(), cause)
		}
	}
	return fmt.Errorf("deliver %s to %s: %w", it.ev.ID(), target, cause)
}
