package delivery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/cloudevents/sdk-go/v2/binding"
	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// maxReplyBytes bounds how much of a function's answer is read.
const maxReplyBytes = 4 << 20

// BatchContentType is the CloudEvents batch format over HTTP.
const BatchContentType = "application/cloudevents-batch+json"

// Result is one delivery attempt's answer.
type Result struct {
	Status int
	Body   []byte
	Header http.Header
}

// Payload is what one POST carries: one event or a batch, to a function
// or, under Dapr's app contract, to an app.
type Payload interface {
	// Write puts the payload on req: body, Content-Type, trace headers.
	Write(ctx context.Context, req *http.Request) error
	// ID names the payload in logs.
	ID() string
	// Path is where under the target's URL it is POSTed.
	Path() string
	// Outcome gives one attempt's answer its meaning under the target's
	// contract: the function table (Classify) or Dapr's app contract.
	Outcome(res Result, err error) Outcome
}

// functionContract is the delivery table of functions: POST to "/", the
// answer read by Classify.
type functionContract struct{}

func (functionContract) Path() string                          { return "/" }
func (functionContract) Outcome(res Result, err error) Outcome { return Classify(res.Status, err) }

// single is one event in binary mode, as Knative and func invoke send it.
type single struct {
	functionContract
	ev *event.Event
}

func (s single) ID() string { return s.ev.ID() }

func (s single) Write(ctx context.Context, req *http.Request) error {
	if err := cehttp.WriteRequest(ctx, binding.ToMessage(s.ev), req); err != nil {
		return Permanentf("encode event %s: %w", s.ev.ID(), err)
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

func (s structured) ID() string { return s.ev.ID() }

func (s structured) Write(ctx context.Context, req *http.Request) error {
	if err := cehttp.WriteRequest(binding.WithForceStructured(ctx), binding.ToMessage(s.ev), req); err != nil {
		return Permanentf("encode event %s: %w", s.ev.ID(), err)
	}
	setTrace(req, s.ev)
	return nil
}

// Batch is events in the structured batch format, in order, read by the
// function table.
type Batch []*event.Event

// Path is "/", where functions take events.
func (Batch) Path() string { return "/" }

// Outcome reads the answer with Classify.
func (Batch) Outcome(res Result, err error) Outcome { return Classify(res.Status, err) }

// ID names the batch by its first event.
func (b Batch) ID() string { return fmt.Sprintf("%s (+%d)", b[0].ID(), len(b)-1) }

// Write puts the batch on req as application/cloudevents-batch+json.
func (b Batch) Write(_ context.Context, req *http.Request) error {
	body, err := json.Marshal(b)
	if err != nil {
		return Permanentf("encode batch %s: %w", b.ID(), err)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	req.Header.Set("Content-Type", BatchContentType)
	setTrace(req, b[0])
	return nil
}

func setTrace(req *http.Request, ev *event.Event) {
	if tp, ok := ev.Extensions()["traceparent"].(string); ok {
		req.Header.Set("traceparent", tp)
	}
}

// send POSTs p to target through rt, once, and returns the function's
// answer. A transport error is a *url.Error, as http.Client's.
func send(ctx context.Context, rt http.RoundTripper, target string, p Payload, timeout time.Duration) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return Result{}, Permanentf("build request for %s: %w", target, err)
	}
	if err := p.Write(ctx, req); err != nil {
		return Result{}, err
	}
	injectTrace(ctx, req.Header)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return Result{}, fmt.Errorf("post to %s: %w", target, &url.Error{Op: "Post", URL: target, Err: err})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return Result{}, fmt.Errorf("read answer from %s: %w", target, err)
	}
	return Result{Status: resp.StatusCode, Body: bytes.Clone(body), Header: resp.Header}, nil
}
