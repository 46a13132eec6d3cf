package subscriptions

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/delivery"
)

// App makes a Binding deliver to one Dapr app with Dapr's app contract
// instead of the function table: route paths are the app's own paths
// (the Target resolves each to the app's base URL), each message is POSTed
// to its path with Content-Type application/cloudevents+json and, as its
// body, the envelope exactly as stored (or, for rawPayload, the envelope
// daprd wraps around it), and the answer is read by ClassifyApp.
type App struct {
	// ID is the app's id: it selects the app's Resiliency policies.
	ID string
	// Token, when set, is sent as dapr-api-token on every delivery, as
	// daprd sends APP_API_TOKEN.
	Token string
	// GRPC, when set, delivers with OnTopicEvent on the app's AppCallback
	// service (appProtocol grpc) instead of HTTP POSTs; route paths are
	// passed as the request's path. The Target is then not used.
	GRPC AppCallback
}

// cloudEventContentType is what daprd sends envelopes to apps as.
const cloudEventContentType = "application/cloudevents+json"

// appEvent is one message as daprd's HTTP postman sends it to an app.
type appEvent struct {
	body     []byte
	route    string
	ceID     string
	metadata map[string]string
	trace    [2]string // traceparent, tracestate
	token    string
}

func (a appEvent) ID() string   { return a.ceID }
func (a appEvent) Path() string { return a.route }

func (a appEvent) Outcome(res delivery.Result, err error) delivery.Outcome {
	return ClassifyApp(res.Status, res.Body, err)
}

func (a appEvent) Write(_ context.Context, req *http.Request) error {
	req.Body = io.NopCloser(bytes.NewReader(a.body))
	req.ContentLength = int64(len(a.body))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(a.body)), nil }
	// daprd passes the message's metadata as headers (WithCustomHTTPMetadata);
	// names or values no HTTP request may carry are left out.
	for k, v := range a.metadata {
		if validHeader(k, v) {
			req.Header.Set(k, v)
		}
	}
	req.Header.Set("Content-Type", cloudEventContentType)
	if a.trace[0] != "" {
		req.Header.Set("traceparent", a.trace[0])
	}
	if a.trace[1] != "" {
		req.Header.Set("tracestate", a.trace[1])
	}
	if a.token != "" {
		req.Header.Set("dapr-api-token", a.token)
	}
	return nil
}

// appResponse is the JSON answer of an app, as daprd decodes it.
type appResponse struct {
	Status string `json:"status"`
}

// ClassifyApp gives a Dapr app's answer the meaning daprd 1.16 gives it
// (pkg/runtime/subscription/postman/http): any 2xx whose body is not a
// JSON object with a string "status" (empty, not JSON, another shape) is
// SUCCESS, as is "status" "" or "SUCCESS"; "RETRY" and any other status
// retry; "DROP" is dead-lettered (dropped when the subscription has no
// deadLetterTopic). 404 drops the message without the dead-letter topic;
// every other status and every transport error retries.
func ClassifyApp(status int, body []byte, err error) delivery.Outcome {
	switch {
	case err != nil:
		return delivery.Classify(0, err)
	case status == http.StatusNotFound:
		return delivery.Drop
	case status < 200 || status > 299:
		return delivery.Retry
	}
	var r appResponse
	if json.NewDecoder(bytes.NewReader(body)).Decode(&r) != nil {
		return delivery.Ack // empty or unreadable body: daprd skips the status check
	}
	switch r.Status {
	case "", string(contrib.Success):
		return delivery.Ack
	case string(contrib.Drop):
		return delivery.DeadLetter
	}
	return delivery.Retry // RETRY, or a status daprd does not know
}

// validHeader reports whether a header name and value can be sent.
func validHeader(k, v string) bool {
	if k == "" || len(k)+len(v) > 8<<10 {
		return false
	}
	for _, c := range k {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, c) {
			return false
		}
	}
	for _, c := range v {
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
