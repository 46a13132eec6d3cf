package sidecar

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var errBoom = errors.New("boom")

// errorCase is one refused publish; codes and messages are daprd v1.16.0's
// (pkg/api/errors/pubsub.go, tests/integration/suite/daprd/pubsub/http/errors.go),
// except where daprd answers a client error with 500 (see refusal.go):
// a malformed CloudEvent, a message too large, an invalid topic, the topic
// limit.
type errorCase struct {
	name        string
	pubsub      string
	topic       string
	query       string
	contentType string
	body        string
	pubErr      error
	wantHTTP    int
	wantCode    string // HTTP errorCode; "" for a text/plain answer
	wantGRPC    codes.Code
	wantMsg     string // message on both APIs unless wantHTTPMsg is set
	wantHTTPMsg string
}

func errorCases() []errorCase {
	const pubMsg = "error when publishing to topic orders in pubsub orderpubsub: "
	return []errorCase{
		{name: "unknown pubsub", pubsub: "nope", topic: testTopic, wantHTTP: 404, wantCode: "ERR_PUBSUB_NOT_FOUND",
			wantGRPC: codes.InvalidArgument, wantMsg: "pubsub nope is not found"},
		{name: "empty topic", pubsub: testPubSub, topic: "", wantHTTP: 404, wantCode: "",
			wantGRPC: codes.InvalidArgument, wantMsg: "topic is empty in pubsub orderpubsub", wantHTTPMsg: "404 page not found\n"},
		{name: "invalid rawPayload", pubsub: testPubSub, topic: testTopic, query: "metadata.rawPayload=maybe",
			wantHTTP: 400, wantCode: "ERR_PUBSUB_REQUEST_METADATA", wantGRPC: codes.InvalidArgument,
			wantMsg: "failed deserializing metadata. Error: rawPayload value must be a valid boolean: actual is 'maybe'"},
		{name: "malformed cloudevent", pubsub: testPubSub, topic: testTopic, contentType: "application/cloudevents+json",
			body: `{"}`, wantHTTP: 400, wantCode: "ERR_PUBSUB_CLOUD_EVENTS_SER", wantGRPC: codes.InvalidArgument,
			wantMsg: "cannot create cloudevent: unexpected EOF"},
		{name: "null cloudevent", pubsub: testPubSub, topic: testTopic, contentType: "application/cloudevents+json",
			body: ` null`, wantHTTP: 400, wantCode: "ERR_PUBSUB_CLOUD_EVENTS_SER", wantGRPC: codes.InvalidArgument,
			wantMsg: "cannot create cloudevent: cloud event is not a JSON object"},
		{name: "too large for the broker", pubsub: testPubSub, topic: testTopic, body: "x", pubErr: fmt.Errorf("nats: %w", ErrMessageTooLarge),
			wantHTTP: 413, wantCode: "ERR_PUBSUB_PUBLISH_MESSAGE", wantGRPC: codes.ResourceExhausted,
			wantMsg: "message too large: " + pubMsg + "nats: message too large for the broker"},
		{name: "invalid topic", pubsub: testPubSub, topic: testTopic, body: "x", pubErr: fmt.Errorf("wildcards: %w", ErrInvalidTopic),
			wantHTTP: 400, wantCode: "ERR_PUBSUB_PUBLISH_MESSAGE", wantGRPC: codes.InvalidArgument,
			wantMsg: "invalid topic: " + pubMsg + "wildcards: invalid topic"},
		{name: "topic limit", pubsub: testPubSub, topic: testTopic, body: "x", pubErr: fmt.Errorf("100 topics: %w", ErrTopicLimit),
			wantHTTP: 403, wantCode: "ERR_PUBSUB_PUBLISH_MESSAGE", wantGRPC: codes.FailedPrecondition,
			wantMsg: "topic limit reached: " + pubMsg + "100 topics: topic limit reached"},
		{name: "publisher error", pubsub: testPubSub, topic: testTopic, body: "x", pubErr: errBoom,
			wantHTTP: 500, wantCode: "ERR_PUBSUB_PUBLISH_MESSAGE", wantGRPC: codes.Internal, wantMsg: pubMsg + "boom"},
		{name: "topic forbidden", pubsub: testPubSub, topic: testTopic, pubErr: fmt.Errorf("scopes: %w", ErrTopicForbidden),
			wantHTTP: 403, wantCode: "ERR_PUBSUB_FORBIDDEN", wantGRPC: codes.PermissionDenied,
			wantMsg: "topic orders is not allowed for app id checkout"},
		{name: "component gone", pubsub: testPubSub, topic: testTopic, pubErr: ErrPubSubNotFound,
			wantHTTP: 400, wantCode: "ERR_PUBSUB_NOT_FOUND", wantGRPC: codes.NotFound, wantMsg: "pubsub 'orderpubsub' not found"},
	}
}

func TestPublishErrorsHTTP(t *testing.T) {
	e := startEnv(t)
	for _, tc := range errorCases() {
		t.Run(tc.name, func(t *testing.T) {
			e.pub.setErr(tc.pubErr)
			path := "/v1.0/publish/" + tc.pubsub + "/" + tc.topic + "?" + tc.query
			resp := e.post(t, path, tc.contentType, tc.body, nil)
			if resp.StatusCode != tc.wantHTTP {
				t.Errorf("status: got %d, want %d", resp.StatusCode, tc.wantHTTP)
			}
			checkHTTPError(t, resp, tc.wantCode, or(tc.wantHTTPMsg, tc.wantMsg))
		})
	}
}

func checkHTTPError(t *testing.T, resp *http.Response, wantCode, wantMsg string) {
	t.Helper()
	if wantCode == "" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != wantMsg {
			t.Errorf("body: got %q, want %q", b, wantMsg)
		}
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type: got %q, want application/json", ct)
	}
	got := decodeAPIError(t, resp)
	if got.ErrorCode != wantCode || got.Message != wantMsg {
		t.Errorf("error: got %s %q, want %s %q", got.ErrorCode, got.Message, wantCode, wantMsg)
	}
}

func TestPublishErrorsGRPC(t *testing.T) {
	e := startEnv(t)
	client := e.protoClient(t)
	for _, tc := range append(errorCases(), errorCase{
		name: "empty pubsub name", topic: testTopic, wantGRPC: codes.InvalidArgument, wantMsg: "pubsub name is empty",
	}) {
		t.Run(tc.name, func(t *testing.T) {
			e.pub.setErr(tc.pubErr)
			_, err := client.PublishEvent(context.Background(), &runtimev1pb.PublishEventRequest{
				PubsubName: tc.pubsub, Topic: tc.topic, Data: []byte(tc.body),
				DataContentType: tc.contentType, Metadata: queryToMetadata(tc.query),
			})
			checkStatus(t, err, tc.wantGRPC, tc.wantMsg)
		})
	}
}

func checkStatus(t *testing.T, err error, wantCode codes.Code, wantMsg string) {
	t.Helper()
	st := status.Convert(err)
	if st.Code() != wantCode || st.Message() != wantMsg {
		t.Errorf("status: got %s %q, want %s %q", st.Code(), st.Message(), wantCode, wantMsg)
	}
	if !hasErrorInfo(st) {
		t.Errorf("status details: got %v, want an ErrorInfo", st.Details())
	}
}

func hasErrorInfo(st *status.Status) bool {
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok && info.GetDomain() == "dapr.io" {
			return true
		}
	}
	return false
}

func queryToMetadata(q string) map[string]string {
	if q == "" {
		return nil
	}
	k, v, _ := strings.Cut(strings.TrimPrefix(q, "metadata."), "=")
	return map[string]string{k: v}
}

func TestOversizedBody(t *testing.T) {
	e := startEnv(t, WithMaxBodyBytes(1024))
	big := strings.Repeat("x", 2048)

	resp := e.post(t, "/v1.0/publish/orderpubsub/orders", "", big, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("http status: got %d, want 413 (daprd: 500)", resp.StatusCode)
	}
	checkHTTPError(t, resp, "ERR_PUBSUB_PUBLISH_MESSAGE",
		"message too large: error when publishing to topic orders in pubsub orderpubsub: stream too large")

	// Chunked (no Content-Length): the limit applies while reading.
	chunked, _ := http.NewRequest(http.MethodPost, e.httpURL+"/v1.0/publish/orderpubsub/orders", io.MultiReader(strings.NewReader(big)))
	resp, err := http.DefaultClient.Do(chunked)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusRequestEntityTooLarge || chunked.ContentLength != 0 {
		t.Errorf("chunked: got %d (length %d), want 413 for a chunked body", resp.StatusCode, chunked.ContentLength)
	}
	resp.Body.Close()

	// A bulk publish too: daprd answers 400 (its events do not decode).
	resp = e.post(t, "/v1.0-alpha1/publish/bulk/orderpubsub/orders", "application/json",
		`[{"entryId":"1","event":"`+big+`","contentType":"text/plain"}]`, nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("bulk: got %d, want 413", resp.StatusCode)
	}
	resp.Body.Close()

	_, err = e.protoClient(t).PublishEvent(context.Background(), &runtimev1pb.PublishEventRequest{
		PubsubName: testPubSub, Topic: testTopic, Data: []byte(big),
	})
	if got := status.Code(err); got != codes.ResourceExhausted {
		t.Errorf("grpc code: got %s, want ResourceExhausted", got)
	}
	if n := len(e.pub.requests()); n != 0 {
		t.Errorf("published: got %d, want 0", n)
	}
}

func TestBodyAtLimit(t *testing.T) {
	e := startEnv(t, WithMaxBodyBytes(1024))
	resp := e.post(t, "/v1.0/publish/orderpubsub/orders?metadata.rawPayload=true", "", strings.Repeat("x", 1024), nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status: got %d, want 204", resp.StatusCode)
	}
	if n := len(e.pub.last(t).Data); n != 1024 {
		t.Errorf("data: got %d bytes, want 1024", n)
	}
}

// TestBodyLimitedInFront: a server in front that limits bodies with
// http.MaxBytesReader (funcd's gateway) gets 413 from the publish API too.
func TestBodyLimitedInFront(t *testing.T) {
	sc, err := New(testAppID, fakeComponents{testPubSub: &fakePublisher{}})
	if err != nil {
		t.Fatal(err)
	}
	api := sc.HTTPHandler()
	front := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 512)
		api.ServeHTTP(w, r)
	})
	for _, path := range []string{"/v1.0/publish/orderpubsub/orders", "/v1.0-alpha1/publish/bulk/orderpubsub/orders"} {
		rec := httptest.NewRecorder()
		front.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader(`[`+strings.Repeat(" ", 1000)+`]`)))
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: got %d %s, want 413", path, rec.Code, rec.Body)
		}
	}
}
