package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"

	"github.com/funcd/funcd/runtime/delivery"
)

func isBatch(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == delivery.BatchContentType
}

// isStructured reports a structured-mode event, which checkEvent reads.
func isStructured(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "application/cloudevents") && mt != delivery.BatchContentType
}

// batchResult is one event's outcome in a failed batch's answer.
type batchResult struct {
	ID     string `json:"id"`
	Status int    `json:"status"`
	Error  string `json:"error,omitempty"`
}

// invokeBatch sends each event of a batch to the function in binary mode,
// one after the other. When all succeed the answer is 200 with the reply
// events as a batch; otherwise it carries the first failure's status and
// every event's result.
func (g *gateway) invokeBatch(w http.ResponseWriter, r *http.Request, name string) {
	body, err := io.ReadAll(r.Body) // limited by the gateway
	if err != nil {
		p := readProblem(err)
		writeError(w, p.status, p.reason)
		return
	}
	events, err := cehttp.NewEventsFromHTTPRequest(&http.Request{Header: r.Header, Body: io.NopCloser(bytes.NewReader(body))})
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid CloudEvents batch: "+err.Error())
		return
	}

	replies := make([]*event.Event, 0, len(events))
	results := make([]batchResult, 0, len(events))
	failure := 0
	for i := range events {
		res, reply := g.sendOne(r.Context(), name, &events[i])
		results = append(results, res)
		if res.Status >= 300 && failure == 0 { // 2xx is the one Ack
			failure = res.Status
		}
		if reply != nil {
			replies = append(replies, reply)
		}
	}
	if failure != 0 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(failure)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": "some events of the batch failed", "results": results})
		return
	}
	w.Header().Set("Content-Type", delivery.BatchContentType)
	_ = json.NewEncoder(w).Encode(replies)
}

// batchPolicy delivers each event of a batch once: the caller sees every
// failure and retries as it sees fit.
var batchPolicy = delivery.Policy{Retry: delivery.RetryPolicy{MaxRetries: 0}, Timeout: delivery.DefaultTimeout}

// sendOne delivers one event of a batch through the delivery engine, once,
// and returns its result and reply. A function the Target does not know is
// 404 as when it is called alone; one that cannot start is 503, one that
// does not answer 502, an event that cannot be encoded 400.
func (g *gateway) sendOne(ctx context.Context, name string, ev *event.Event) (batchResult, *event.Event) {
	res := batchResult{ID: ev.ID()}
	a := g.deliverer.Deliver(ctx, name, ev, batchPolicy)
	var transport *url.Error
	switch {
	case a.Status != 0:
		res.Status = a.Status
	case errors.Is(a.Err, ErrUnknownFunction):
		res.Status = http.StatusNotFound
	case a.Outcome == delivery.DeadLetter:
		res.Status = http.StatusBadRequest
	case errors.As(a.Err, &transport):
		res.Status = http.StatusBadGateway
	default:
		res.Status = http.StatusServiceUnavailable
	}
	if a.Outcome != delivery.Ack {
		if a.Err != nil {
			res.Error = a.Err.Error()
		} else {
			res.Error = string(bytes.TrimSpace(a.Body[:min(len(a.Body), 4096)]))
		}
		return res, nil
	}
	reply, err := binding.ToEvent(ctx, cehttp.NewMessage(a.Header, io.NopCloser(bytes.NewReader(a.Body))))
	if err != nil {
		return res, nil // 2xx without a reply event
	}
	return res, reply
}
