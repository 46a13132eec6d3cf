package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

const batchContentType = "application/cloudevents-batch+json"

func isBatch(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return mt == batchContentType
}

// isStructured reports a structured-mode event, which checkEvent reads.
func isStructured(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return strings.HasPrefix(mt, "application/cloudevents") && mt != batchContentType
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
		if res.Status >= 300 && failure == 0 {
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
	w.Header().Set("Content-Type", batchContentType)
	_ = json.NewEncoder(w).Encode(replies)
}

// sendOne delivers one event of a batch and returns its result and reply.
func (g *gateway) sendOne(ctx context.Context, name string, ev *event.Event) (batchResult, *event.Event) {
	res := batchResult{ID: ev.ID()}
	base, release, err := g.cfg.Target.Acquire(ctx, name)
	if err != nil {
		res.Status, res.Error = http.StatusServiceUnavailable, err.Error()
		return res, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/", nil)
	if err == nil {
		err = cehttp.WriteRequest(ctx, binding.ToMessage(ev), req)
	}
	if err != nil {
		release(false)
		res.Status, res.Error = http.StatusBadRequest, err.Error()
		return res, nil
	}
	resp, err := g.client.Do(req)
	if err != nil {
		release(true)
		res.Status, res.Error = http.StatusBadGateway, err.Error()
		return res, nil
	}
	defer resp.Body.Close()
	release(resp.StatusCode >= 500)
	res.Status = resp.StatusCode
	if resp.StatusCode >= 300 {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		res.Error = string(bytes.TrimSpace(body))
		return res, nil
	}
	reply, err := binding.ToEvent(ctx, cehttp.NewMessageFromHttpResponse(resp))
	if err != nil {
		return res, nil // 2xx without a reply event
	}
	return res, reply
}
