package sidecar

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

var benchOrder = []byte(`{"orderId":1,"item":"coffee","quantity":2}`)

func startNop(b *testing.B) *testEnv {
	b.Helper()
	return startWith(b, fakeComponents{testPubSub: nopPublisher{}}, nil)
}

// BenchmarkPublishGRPC: real Dapr Go SDK client -> loopback gRPC -> no-op
// publisher, as the quickstart publishes (bytes, no content type).
func BenchmarkPublishGRPC(b *testing.B) {
	client := startNop(b).sdkClient(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := client.PublishEvent(ctx, testPubSub, testTopic, benchOrder); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublishHTTP: net/http client -> loopback HTTP -> no-op publisher.
func BenchmarkPublishHTTP(b *testing.B) {
	url := startNop(b).httpURL + "/v1.0/publish/orderpubsub/orders"
	client := &http.Client{}
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(benchOrder))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkHTTPHandler is the server side alone: handler, envelope, publish.
func BenchmarkHTTPHandler(b *testing.B) {
	sc, err := New(testAppID, fakeComponents{testPubSub: nopPublisher{}})
	if err != nil {
		b.Fatal(err)
	}
	h := sc.HTTPHandler()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/v1.0/publish/orderpubsub/orders", bytes.NewReader(benchOrder))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusNoContent {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkEncode is the envelope alone (components-contrib builds it).
func BenchmarkEncode(b *testing.B) {
	sc, _ := New(testAppID, fakeComponents{})
	m := &message{pubsub: testPubSub, topic: testTopic, data: benchOrder, trace: traceFrom(callerTraceparent, "")}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := sc.encode(m, false, nil); err != nil {
			b.Fatal(err)
		}
	}
}
