package sidecar

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPRouting(t *testing.T) {
	e := startEnv(t)
	h := e.sc.HTTPHandler()
	tests := []struct {
		name      string
		method    string
		target    string
		wantCode  int
		wantTopic string
	}{
		{name: "post", method: "POST", target: "/v1.0/publish/orderpubsub/orders", wantCode: 204, wantTopic: "orders"},
		{name: "put", method: "PUT", target: "/v1.0/publish/orderpubsub/orders", wantCode: 204, wantTopic: "orders"},
		{name: "topic with slashes", method: "POST", target: "/v1.0/publish/orderpubsub/a/b/c", wantCode: 204, wantTopic: "a/b/c"},
		{name: "escaped slash", method: "POST", target: "/v1.0/publish/orderpubsub/a%2Fb", wantCode: 204, wantTopic: "a/b"},
		{name: "plus is a space", method: "POST", target: "/v1.0/publish/orderpubsub/a+b", wantCode: 204, wantTopic: "a b"},
		{name: "path is cleaned", method: "POST", target: "/v1.0/publish/orderpubsub/./x/../orders/", wantCode: 204, wantTopic: "orders"},
		{name: "escaped pubsub name", method: "POST", target: "/v1.0/publish/order%70ubsub/orders", wantCode: 204, wantTopic: "orders"},
		{name: "no topic", method: "POST", target: "/v1.0/publish/orderpubsub", wantCode: 404},
		{name: "empty pubsub", method: "POST", target: "/v1.0/publish//orders", wantCode: 404},
		{name: "no pubsub", method: "POST", target: "/v1.0/publish", wantCode: 404},
		{name: "no bulk topic", method: "POST", target: "/v1.0-alpha1/publish/bulk/orderpubsub", wantCode: 404},
		{name: "get publish", method: "GET", target: "/v1.0/publish/orderpubsub/orders", wantCode: 404},
		{name: "other api", method: "POST", target: "/v1.0/state/store", wantCode: 501},
		{name: "healthz", method: "GET", target: "/v1.0/healthz", wantCode: 204},
		{name: "healthz own app id", method: "GET", target: "/v1.0/healthz?appid=checkout", wantCode: 204},
		{name: "healthz other app id", method: "GET", target: "/v1.0/healthz?appid=other", wantCode: 500},
		{name: "outbound healthz", method: "GET", target: "/v1.0/healthz/outbound", wantCode: 204},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.pub.requests())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, strings.NewReader("x")))
			if rec.Code != tc.wantCode {
				t.Fatalf("status: got %d, want %d (body %q)", rec.Code, tc.wantCode, rec.Body)
			}
			if tc.wantTopic == "" {
				if n := len(e.pub.requests()); n != before {
					t.Errorf("published: got %d new, want 0", n-before)
				}
				return
			}
			if got := e.pub.last(t).Topic; got != tc.wantTopic {
				t.Errorf("topic: got %q, want %q", got, tc.wantTopic)
			}
		})
	}
}

func TestMetadataHTTP(t *testing.T) {
	e := startEnv(t)
	resp, err := http.Get(e.httpURL + "/v1.0/metadata")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body %s: %v", body, err)
	}
	want := `{"components":[{"name":"orderpubsub","type":"pubsub.in-memory","version":"v1"}],"id":"checkout"}`
	if b, _ := json.Marshal(got); string(b) != want {
		t.Errorf("metadata: got %s, want %s", b, want)
	}
}

func TestMetadataGRPC(t *testing.T) {
	e := startEnv(t)
	md, err := e.sdkClient(t).GetMetadata(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if md.ID != testAppID || len(md.RegisteredComponents) != 1 || md.RegisteredComponents[0].Name != testPubSub {
		t.Errorf("metadata: got %+v, want app %s with %s", md, testAppID, testPubSub)
	}
}
