package sidecar

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/dapr/components-contrib/contenttype"

	"github.com/funcd/funcd/runtime/pubsub"
)

// lastPublisher keeps only the last request, so fuzzing does not grow memory.
type lastPublisher struct {
	mu   sync.Mutex
	last *pubsub.Message
}

func (p *lastPublisher) Publish(_ context.Context, req *pubsub.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.last = req
	return nil
}

func (p *lastPublisher) take() *pubsub.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.last
	p.last = nil
	return r
}

// knownStatus are the codes daprd's publish API answers with.
var knownStatus = map[int]bool{204: true, 400: true, 403: true, 404: true, 405: true, 500: true}

func fuzzHandler(f *testing.F) (http.Handler, *lastPublisher) {
	pub := &lastPublisher{}
	sc, err := New(testAppID, fakeComponents{testPubSub: pub}, WithMaxBodyBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	return sc.HTTPHandler(), pub
}

func FuzzPublishHTTP(f *testing.F) {
	f.Add([]byte(`{"orderId":1}`), "", "", "orders", "")
	f.Add([]byte(`{"orderId":1}`), "application/json", "metadata.ttlInSeconds=60", "orders", callerTraceparent)
	f.Add([]byte(callerCE), "application/cloudevents+json", "metadata.cloudevent.type=x", "orders", "")
	f.Add([]byte(`null`), "application/cloudevents+json", "", "orders", "")
	f.Add([]byte{0, 1, 2}, "application/octet-stream", "metadata.rawPayload=true", "a%2Fb/c", "00-x")
	h, pub := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, contentType, query, topic, traceparent string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawQuery = "/v1.0/publish/"+testPubSub+"/"+topic, query
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("traceparent", traceparent)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		raw, callerCE := strings.Contains(query, "rawPayload"), contenttype.IsCloudEventContentType(contentType)
		checkFuzzAnswer(t, rec, pub.take(), raw, callerCE)
	})
}

func FuzzBulkPublishHTTP(f *testing.F) {
	f.Add([]byte(`[{"entryId":"1","event":{"orderId":1},"contentType":"application/json"}]`), "")
	f.Add([]byte(`[{"entryId":"1","event":"AAE=","contentType":"application/octet-stream","metadata":{"ttlInSeconds":"1"}}]`), "metadata.rawPayload=true")
	f.Add([]byte(`{"entryID": "}`), "")
	h, pub := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, body []byte, query string) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.URL.Path, req.URL.RawQuery = bulkPath, query
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		checkFuzzAnswer(t, rec, pub.take(), true, true)
	})
}

// checkFuzzAnswer fails on a recovered panic, an unknown status, or a
// published envelope without daprd's attributes. A caller's CloudEvent is
// kept as sent, so it may lack an id (daprd adds none either).
func checkFuzzAnswer(t *testing.T, rec *httptest.ResponseRecorder, got *pubsub.Message, mayBeRaw, callerCE bool) {
	t.Helper()
	if !knownStatus[rec.Code] {
		t.Fatalf("status: got %d, want one of daprd's", rec.Code)
	}
	if strings.Contains(rec.Body.String(), `"errorCode":"ERROR"`) {
		t.Fatalf("handler panicked: %s", rec.Body)
	}
	if got == nil {
		return
	}
	// The id handed over with the message is the one its data carries, as
	// the JetStream component reads it (a string id; none otherwise).
	if got.ID != "" {
		var env struct {
			ID any `json:"id"`
		}
		if err := json.Unmarshal(got.Data, &env); err != nil || env.ID != got.ID {
			t.Fatalf("message ID %q, but its data's id is %#v (%v)", got.ID, env.ID, err)
		}
	}
	if mayBeRaw {
		return
	}
	var ce map[string]any
	if err := json.Unmarshal(got.Data, &ce); err != nil {
		t.Fatalf("published data is not JSON: %v", err)
	}
	if id, ok := ce["id"].(string); ok && utf8.ValidString(id) && got.ID != id {
		t.Fatalf("data's id is %q, the message's ID %q", id, got.ID)
	}
	// JSON coerces invalid UTF-8 byte by byte, as []rune conversion does.
	if ce["pubsubname"] != testPubSub || ce["topic"] != string([]rune(got.Topic)) || (ce["id"] == nil && !callerCE) {
		t.Fatalf("envelope: got %v, want pubsubname, topic and id set", ce)
	}
}
