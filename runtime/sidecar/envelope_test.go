package sidecar

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc/metadata"

	"github.com/funcd/funcd/runtime/pubsub"
)

const (
	callerTraceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	callerTracestate  = "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
	callerCE          = `{"specversion":"1.0","id":"order-1","source":"/checkout","type":"com.example.order.placed","datacontenttype":"application/json","data":{"orderId":1}}`
)

var w3cTraceparent = regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

type order struct {
	OrderID int `json:"orderId"`
}

// envelopeCase is one publish and what the component must receive.
type envelopeCase struct {
	name        string
	data        []byte // body; ignored when object is set
	object      any    // published as a Go value (SDK) or as JSON (HTTP)
	contentType string
	metadata    map[string]string
	traceparent string
	tracestate  string
	check       func(t *testing.T, req *pubsub.Message)
}

func envelopeCases() []envelopeCase {
	return []envelopeCase{
		{name: "struct as json", object: order{OrderID: 1}, check: wantEnvelope(envelope{
			contentType: "application/json", dataJSON: `{"orderId":1}`,
		})},
		{name: "bytes without content type are text/plain", data: []byte(`{"orderId":1}`), check: wantEnvelope(envelope{
			contentType: "text/plain", dataString: `{"orderId":1}`,
		})},
		{name: "application/json keeps big numbers", data: []byte(`{"orderId":12345678901234567890}`), contentType: "application/json",
			check: wantEnvelope(envelope{contentType: "application/json", dataJSON: `{"orderId":12345678901234567890}`})},
		{name: "invalid json with application/json becomes a string", data: []byte(`{"orderId":`), contentType: "application/json",
			check: wantEnvelope(envelope{contentType: "application/json", dataString: `{"orderId":`})},
		{name: "octet-stream is data_base64", data: []byte{0, 1, 2, 0xff}, contentType: "application/octet-stream",
			check: wantEnvelope(envelope{contentType: "application/octet-stream", dataBase64: []byte{0, 1, 2, 0xff}})},
		{name: "caller cloudevent is kept", data: []byte(callerCE), contentType: "application/cloudevents+json",
			metadata: map[string]string{"cloudevent.type": "ignored"}, check: checkCallerCE},
		{name: "raw payload is not wrapped", data: []byte(`{"orderId":1}`), metadata: map[string]string{"rawPayload": "true"},
			check: checkRaw},
		{name: "ttl sets expiration", data: []byte("x"), metadata: map[string]string{"ttlInSeconds": "60"}, check: checkTTL},
		{name: "cloudevent overrides", data: []byte("x"), metadata: map[string]string{
			"cloudevent.type": "com.example.order.placed", "cloudevent.id": "id-1", "CloudEvent.Source": "/custom",
		}, check: wantEnvelope(envelope{contentType: "text/plain", dataString: "x", id: "id-1", source: "/custom", typ: "com.example.order.placed"})},
		{name: "empty source override falls back to Dapr", data: []byte("x"), metadata: map[string]string{"cloudevent.source": ""},
			check: wantEnvelope(envelope{contentType: "text/plain", dataString: "x", source: "Dapr"})},
		{name: "traceparent propagates", data: []byte("x"), traceparent: callerTraceparent, tracestate: callerTracestate,
			check: wantEnvelope(envelope{contentType: "text/plain", dataString: "x", traceparent: callerTraceparent, tracestate: callerTracestate})},
		{name: "traceparent override wins", data: []byte("x"), traceparent: callerTraceparent,
			metadata: map[string]string{"cloudevent.traceparent": "00-11111111111111111111111111111111-2222222222222222-00"},
			check:    wantEnvelope(envelope{contentType: "text/plain", dataString: "x", traceparent: "00-11111111111111111111111111111111-2222222222222222-00"})},
		{name: "invalid traceparent starts a new trace", data: []byte("x"), traceparent: "00-XYZ-b7ad6b7169203331-01", tracestate: callerTracestate,
			check: wantEnvelope(envelope{contentType: "text/plain", dataString: "x", tracestate: ""})},
	}
}

func TestEnvelopeGRPC(t *testing.T) {
	e := startEnv(t)
	client := e.sdkClient(t)
	for _, tc := range envelopeCases() {
		t.Run(tc.name, func(t *testing.T) {
			if err := publishSDK(client, tc); err != nil {
				t.Fatalf("PublishEvent: %v", err)
			}
			tc.check(t, e.pub.last(t))
		})
	}
}

func TestEnvelopeHTTP(t *testing.T) {
	e := startEnv(t)
	for _, tc := range envelopeCases() {
		t.Run(tc.name, func(t *testing.T) {
			resp := publishHTTP(t, e, tc)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("status: got %d, want 204", resp.StatusCode)
			}
			tc.check(t, e.pub.last(t))
		})
	}
}

func publishSDK(client dapr.Client, tc envelopeCase) error {
	var opts []dapr.PublishEventOption
	if tc.contentType != "" {
		opts = append(opts, dapr.PublishEventWithContentType(tc.contentType))
	}
	if tc.metadata != nil {
		opts = append(opts, dapr.PublishEventWithMetadata(tc.metadata))
	}
	ctx := context.Background()
	if tc.traceparent != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", tc.traceparent, "tracestate", tc.tracestate)
	}
	var data any = tc.data
	if tc.object != nil {
		data = tc.object
	}
	return client.PublishEvent(ctx, testPubSub, testTopic, data, opts...)
}

func publishHTTP(t *testing.T, e *testEnv, tc envelopeCase) *http.Response {
	t.Helper()
	body, ct := tc.data, tc.contentType
	if tc.object != nil {
		body, _ = json.Marshal(tc.object)
		ct = "application/json"
	}
	q := url.Values{}
	for k, v := range tc.metadata {
		q.Set("metadata."+k, v)
	}
	h := http.Header{}
	if tc.traceparent != "" {
		h.Set("traceparent", tc.traceparent)
		h.Set("tracestate", tc.tracestate)
	}
	return e.post(t, "/v1.0/publish/"+testPubSub+"/"+testTopic+"?"+q.Encode(), ct, string(body), h)
}

// envelope is what a wrapped message must look like; empty fields take the
// defaults (source = app id, type = com.dapr.event.sent, any id/trace).
type envelope struct {
	contentType, id, source, typ string
	dataJSON, dataString         string
	dataBase64                   []byte
	traceparent, tracestate      string
}

func wantEnvelope(want envelope) func(*testing.T, *pubsub.Message) {
	return func(t *testing.T, req *pubsub.Message) {
		t.Helper()
		ce := decodeEnvelope(t, req)
		checkAttrs(t, ce, want)
		checkTrace(t, ce, want.traceparent, want.tracestate)
		checkData(t, ce, want)
	}
}

func decodeEnvelope(t *testing.T, req *pubsub.Message) map[string]any {
	t.Helper()
	// fakeComponents holds the publisher under testPubSub only.
	if req.Topic != testTopic {
		t.Errorf("request topic: got %s, want %s", req.Topic, testTopic)
	}
	dec := json.NewDecoder(bytes.NewReader(req.Data))
	dec.UseNumber()
	var ce map[string]any
	if err := dec.Decode(&ce); err != nil {
		t.Fatalf("envelope is not JSON: %v: %s", err, req.Data)
	}
	return ce
}

func checkAttrs(t *testing.T, ce map[string]any, want envelope) {
	t.Helper()
	wantStr := map[string]string{
		"specversion": "1.0", "datacontenttype": want.contentType, "topic": testTopic, "pubsubname": testPubSub,
		"source": or(want.source, testAppID), "type": or(want.typ, "com.dapr.event.sent"),
	}
	if want.id != "" {
		wantStr["id"] = want.id
	}
	for k, v := range wantStr {
		if got := ce[k]; got != v {
			t.Errorf("%s: got %v, want %q", k, got, v)
		}
	}
	if id, _ := ce["id"].(string); id == "" {
		t.Error("id: got empty, want non-empty")
	}
	if ts, _ := ce["time"].(string); !isRFC3339(ts) {
		t.Errorf("time: got %q, want RFC3339", ts)
	}
}

func checkTrace(t *testing.T, ce map[string]any, wantParent, wantState string) {
	t.Helper()
	tp, _ := ce["traceparent"].(string)
	if ce["traceid"] != tp {
		t.Errorf("traceid: got %v, want traceparent %q", ce["traceid"], tp)
	}
	if wantParent != "" && tp != wantParent {
		t.Errorf("traceparent: got %q, want %q", tp, wantParent)
	}
	if !w3cTraceparent.MatchString(tp) {
		t.Errorf("traceparent: got %q, want W3C", tp)
	}
	if ce["tracestate"] != wantState {
		t.Errorf("tracestate: got %v, want %q", ce["tracestate"], wantState)
	}
}

func checkData(t *testing.T, ce map[string]any, want envelope) {
	t.Helper()
	switch {
	case want.dataJSON != "":
		got, _ := json.Marshal(ce["data"])
		if string(got) != want.dataJSON {
			t.Errorf("data: got %s, want object %s", got, want.dataJSON)
		}
	case want.dataBase64 != nil:
		if ce["data_base64"] != base64.StdEncoding.EncodeToString(want.dataBase64) {
			t.Errorf("data_base64: got %v, want base64 of %v", ce["data_base64"], want.dataBase64)
		}
		if _, ok := ce["data"]; ok {
			t.Error("data: present next to data_base64")
		}
	default:
		if ce["data"] != want.dataString {
			t.Errorf("data: got %#v, want string %q", ce["data"], want.dataString)
		}
	}
}

func checkCallerCE(t *testing.T, req *pubsub.Message) {
	t.Helper()
	ce := decodeEnvelope(t, req)
	for k, v := range map[string]string{
		"id": "order-1", "source": "/checkout", "type": "com.example.order.placed", "specversion": "1.0",
		"datacontenttype": "application/json", "topic": testTopic, "pubsubname": testPubSub, "tracestate": "",
	} {
		if ce[k] != v {
			t.Errorf("%s: got %v, want %q", k, ce[k], v)
		}
	}
	checkTrace(t, ce, "", "")
	if got, _ := json.Marshal(ce["data"]); string(got) != `{"orderId":1}` {
		t.Errorf("data: got %s, want the caller's", got)
	}
}

func checkRaw(t *testing.T, req *pubsub.Message) {
	t.Helper()
	if string(req.Data) != `{"orderId":1}` {
		t.Errorf("data: got %s, want the raw payload", req.Data)
	}
	if req.Metadata["rawPayload"] != "true" {
		t.Errorf("metadata: got %v, want rawPayload=true passed on", req.Metadata)
	}
}

func checkTTL(t *testing.T, req *pubsub.Message) {
	t.Helper()
	ce := decodeEnvelope(t, req)
	exp, err := time.Parse(time.RFC3339, ce["expiration"].(string))
	if err != nil {
		t.Fatalf("expiration: %v", err)
	}
	if d := time.Until(exp); d < 58*time.Second || d > 61*time.Second {
		t.Errorf("expiration: got now+%v, want now+60s", d)
	}
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

func isRFC3339(s string) bool {
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}
