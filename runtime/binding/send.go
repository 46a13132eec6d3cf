package binding

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// maxReplyBytes bounds how much of a function's answer is read.
const maxReplyBytes = 4 << 20

// batchContentType is the CloudEvents batch format over HTTP.
const batchContentType = "application/cloudevents-batch+json"

// result is one delivery attempt's answer.
type result struct {
	status int
	body   []byte
	header http.Header
}

// payload is what one POST carries: one event or a batch.
type payload interface {
	write(ctx context.Context, req *http.Request) error
	id() string // for logs
	// path is where under the target's URL it is POSTed.
	path() string
	// outcome gives one attempt's answer its meaning under the target's
	// contract: the function table (Classify) or Dapr's app contract
	// (ClassifyApp).
	outcome(res result, err error) Outcome
}

// functionContract is the delivery table of functions: POST to "/", the
// answer read by Classify.
type functionContract struct{}

func (functionContract) path() string                          { return "/" }
func (functionContract) outcome(res result, err error) Outcome { return Classify(res.status, err) }

// single is one event in binary mode, as Knative and func invoke send it.
type single struct {
	functionContract
	ev *event.Event
}

func (s single) id() string { return s.ev.ID() }

func (s single) write(ctx context.Context, req *http.Request) error {
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(s.ev), req); err != nil {
		return permanentf("encode event %s: %w", s.ev.ID(), err)
	}
	setTrace(req, s.ev)
	return nil
}

// structured is one event in structured mode: the whole CloudEvent as the
// JSON body (application/cloudevents+json), as Dapr delivers to apps. Plain
// HTTP functions get it, since they read the body, not ce-* headers.
type structured struct {
	functionContract
	ev *event.Event
}

func (s structured) id() string { return s.ev.ID() }

func (s structured) write(ctx context.Context, req *http.Request) error {
	if err := cehttp.WriteRequest(binding.WithForceStructured(ctx), binding.ToMessage(s.ev), req); err != nil {
		return permanentf("encode event %s: %w", s.ev.ID(), err)
	}
	setTrace(req, s.ev)
	return nil
}

// batch is events in the structured batch format, in order.
type batch []*event.Event

func (batch) path() string                          { return "/" }
func (batch) outcome(res result, err error) Outcome { return Classify(res.status, err) }

func (b batch) id() string { return fmt.Sprintf("%s (+%d)", b[0].ID(), len(b)-1) }

func (b batch) write(_ context.Context, req *http.Request) error {
	body, err := json.Marshal(b)
	if err != nil {
		return permanentf("encode batch %s: %w", b.id(), err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header.Set("Content-Type", batchContentType)
	setTrace(req, b[0])
	return nil
}

func setTrace(req *http.Request, ev *event.Event) {
	if tp, ok := ev.Extensions()["traceparent"].(string); ok {
		req.Header.Set("traceparent", tp)
	}
}

// send POSTs p to url and returns the function's answer.
func send(ctx context.Context, client *http.Client, url string, p payload, timeout time.Duration) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return result{}, permanentf("build request for %s: %w", url, err)
	}
	if err := p.write(ctx, req); err != nil {
		return result{}, err
	}
	injectTrace(ctx, req.Header)
	resp, err := client.Do(req)
	if err != nil {
		return result{}, fmt.Errorf("post to %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return result{}, fmt.Errorf("read answer from %s: %w", url, err)
	}
	return result{status: resp.StatusCode, body: bytes.Clone(body), header: resp.Header}, nil
}
