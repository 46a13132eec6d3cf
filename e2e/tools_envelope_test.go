package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	daprc "github.com/dapr/go-sdk/client"
	"github.com/redis/go-redis/v9"
)

// publishCase is one publish made identically to daprd and to our sidecar.
type publishCase struct {
	name  string
	grpc  bool   // through the Dapr Go SDK's PublishEvent, else HTTP
	query string // HTTP query (metadata.*)
	ct    string
	body  string
	raw   bool // rawPayload: compare the stored bytes exactly
}

var publishCases = []publishCase{
	{name: "http json", ct: "application/json", body: `{"orderId":1,"customerName":"A","amount":1.5}`},
	{name: "http text", ct: "text/plain", body: `Published data: {"orderId":2}`},
	{name: "http cloudevent", ct: "application/cloudevents+json",
		body: `{"specversion":"1.0","id":"caller-3","source":"/caller","type":"com.example.caller","datacontenttype":"application/json","subject":"s","myext":"x","data":{"orderId":3}}`},
	{name: "http octet-stream", ct: "application/octet-stream", body: "\x00\x01binary"},
	{name: "http cloudevent overrides", ct: "application/json", body: `{"orderId":5}`,
		query: "?metadata.cloudevent.type=com.example.overridden&metadata.cloudevent.source=%2Foverride&metadata.cloudevent.id=over-5"},
	{name: "http raw payload", ct: "application/json", body: `{"orderId":6}`, query: "?metadata.rawPayload=true", raw: true},
	{name: "grpc json", grpc: true, ct: "application/json", body: `{"orderId":7}`},
	{name: "grpc text", grpc: true, ct: "text/plain", body: "hello 8"},
	{name: "grpc cloudevent", grpc: true, ct: "application/cloudevents+json",
		body: `{"specversion":"1.0","id":"caller-9","source":"/caller","type":"com.example.caller","datacontenttype":"text/plain","data":"nine"}`},
}

// volatile are the envelope fields that differ between any two publishes.
var volatile = []string{"id", "time", "traceid", "traceparent", "tracestate"}

// publishTo makes c's publish to topic on the sidecar at httpURL / grpcAddr.
func publishTo(t *testing.T, c publishCase, httpURL, grpcAddr, topic string) {
	t.Helper()
	if !c.grpc {
		status, body := post(t, httpURL+"/v1.0/publish/orderpubsub/"+topic+c.query, c.ct, c.body, nil)
		if status != http.StatusNoContent {
			t.Fatalf("%s: HTTP publish to %s: got %d %q, want 204", c.name, httpURL, status, body)
		}
		return
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	client, err := daprc.NewClientWithAddressContext(ctx, grpcAddr)
	if err != nil {
		t.Fatalf("dial %s: %v", grpcAddr, err)
	}
	defer client.Close()
	if err := client.PublishEvent(ctx, "orderpubsub", topic, []byte(c.body), daprc.PublishEventWithContentType(c.ct)); err != nil {
		t.Fatalf("%s: gRPC publish to %s: %v", c.name, grpcAddr, err)
	}
}

// lastOnStream waits for an entry on a Redis stream and returns its data.
func lastOnStream(t *testing.T, rdb *redis.Client, stream string) []byte {
	t.Helper()
	var data string
	waitFor(t, 10*time.Second, "a message on "+stream, func() bool {
		msgs, err := rdb.XRevRangeN(t.Context(), stream, "+", "-", 1).Result()
		if err != nil || len(msgs) == 0 {
			return false
		}
		data, _ = msgs[0].Values["data"].(string)
		return true
	})
	return []byte(data)
}

// comparable drops the volatile fields of an envelope (keeping id when the
// caller chose it) and returns it as canonical JSON.
func comparable(t *testing.T, envelope []byte, keepID bool) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(envelope, &m); err != nil {
		t.Fatalf("envelope %q: %v", envelope, err)
	}
	for _, k := range volatile {
		if k == "id" && keepID {
			continue
		}
		if _, ok := m[k]; !ok && k != "tracestate" {
			t.Errorf("envelope %s has no %s", envelope, k)
		}
		delete(m, k)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// callerID reports whether the case's publisher chose the event id.
func (c publishCase) callerID() bool {
	return strings.Contains(c.body, `"id":"caller-`) || strings.Contains(c.query, "cloudevent.id")
}

// tokenCall is one HTTP publish with a given dapr-api-token header.
func tokenCall(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(`{"orderId":1}`))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("dapr-api-token", token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

// grpcTokenCall publishes with the SDK, with token (none when empty).
func grpcTokenCall(t *testing.T, grpcAddr, token string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	client, err := daprc.NewClientWithAddressContext(ctx, grpcAddr)
	if err != nil {
		t.Fatalf("dial %s: %v", grpcAddr, err)
	}
	defer client.Close()
	client.WithAuthToken(token)
	return client.PublishEvent(ctx, "orderpubsub", "tokens", []byte(`{"orderId":1}`), daprc.PublishEventWithContentType("application/json"))
}

func describeErr(err error) string {
	if err == nil {
		return "ok"
	}
	return fmt.Sprint(err)
}
