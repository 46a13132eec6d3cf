package gateway

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

type fakeLister []FunctionInfo

func (l fakeLister) Functions() []FunctionInfo { return l }

// fullLister lists subscriptions too.
type fullLister struct {
	fakeLister
	subs []SubscriptionInfo
}

func (l fullLister) Subscriptions() []SubscriptionInfo { return l.subs }

func TestList(t *testing.T) {
	tests := []struct {
		name   string
		lister Lister
		want   string
	}{
		{name: "no lister", want: `{"functions":null,"subscriptions":null}`},
		{
			name:   "functions",
			lister: fakeLister{{Name: "checkout", State: "running", Instances: 1}, {Name: "order-processor", State: "zero"}},
		},
		{
			name: "functions and subscriptions",
			lister: fullLister{fakeLister{{Name: "order-processor", State: "zero"}},
				[]SubscriptionInfo{{Name: "order-processor-orders", PubSub: "orderpubsub", Topic: "orders", Delivered: 3, DeadLettered: 1}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, New(Config{Target: &fakeTarget{}, Lister: tt.lister}), http.MethodGet, "/", "", nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %s, want 200 application/json", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if tt.want != "" {
				if got := strings.TrimSpace(body); got != tt.want {
					t.Errorf("got %s, want %s", got, tt.want)
				}
				return
			}
			var got struct {
				Functions     []FunctionInfo
				Subscriptions []SubscriptionInfo
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if want := tt.lister.Functions(); !reflect.DeepEqual(got.Functions, want) {
				t.Errorf("got %+v, want %+v", got.Functions, want)
			}
			var wantSubs []SubscriptionInfo
			if sl, ok := tt.lister.(SubscriptionLister); ok {
				wantSubs = sl.Subscriptions()
			}
			if !reflect.DeepEqual(got.Subscriptions, wantSubs) {
				t.Errorf("subscriptions: got %+v, want %+v", got.Subscriptions, wantSubs)
			}
		})
	}
}

// publishAPI stands in for the sidecar's Dapr HTTP API.
var publishAPI = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Publish", r.Method+" "+r.URL.Path)
	w.WriteHeader(http.StatusNoContent)
})

func TestDaprAPI(t *testing.T) {
	withAPI := New(Config{Target: &fakeTarget{}, Publish: publishAPI})
	withoutAPI := New(Config{Target: &fakeTarget{}})
	tests := []struct {
		name, method, path string
		h                  http.Handler
		wantStatus         int
	}{
		{name: "publish", h: withAPI, method: http.MethodPost, path: "/v1.0/publish/orderpubsub/orders", wantStatus: http.StatusNoContent},
		{name: "publish with PUT", h: withAPI, method: http.MethodPut, path: "/v1.0/publish/orderpubsub/orders", wantStatus: http.StatusNoContent},
		{name: "bulk publish", h: withAPI, method: http.MethodPost, path: "/v1.0-alpha1/publish/bulk/orderpubsub/orders", wantStatus: http.StatusNoContent},
		{name: "healthz", h: withAPI, method: http.MethodGet, path: "/v1.0/healthz", wantStatus: http.StatusNoContent},
		{name: "no API: publish", h: withoutAPI, method: http.MethodPost, path: "/v1.0/publish/orderpubsub/orders", wantStatus: http.StatusNotFound},
		{name: "no API: bulk", h: withoutAPI, method: http.MethodPost, path: "/v1.0-alpha1/publish/bulk/orderpubsub/orders", wantStatus: http.StatusNotFound},
		{name: "no API: healthz", h: withoutAPI, method: http.MethodGet, path: "/v1.0/healthz", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.h, tt.method, tt.path, `{"orderId":1}`, http.Header{"Content-Type": {"application/json"}})
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusNoContent {
				if got := errorBody(t, resp, body); !strings.Contains(got, "publish API") {
					t.Errorf("got error %q, want it to name the publish API", got)
				}
				return
			}
			if got, want := resp.Header.Get("X-Publish"), tt.method+" "+tt.path; got != want {
				t.Errorf("got the publish API called with %q, want %q", got, want)
			}
		})
	}
}

func TestMethods(t *testing.T) {
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Got", r.Method+" "+r.URL.RequestURI())
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(fn.Close)
	h := New(Config{
		Target:      &fakeTarget{urls: map[string]string{"checkout": fn.URL, "web": fn.URL}},
		CloudEvents: func(name string) bool { return name == "checkout" },
	})
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantGot            string // the request the function got
	}{
		{name: "GET a CloudEvent function", method: http.MethodGet, path: "/checkout", wantStatus: http.StatusMethodNotAllowed},
		{name: "DELETE a CloudEvent function's sub-path", method: http.MethodDelete, path: "/checkout/x", wantStatus: http.StatusMethodNotAllowed},
		{name: "POST the root", method: http.MethodPost, path: "/", wantStatus: http.StatusMethodNotAllowed},
		{name: "GET an HTTP function", method: http.MethodGet, path: "/web", wantStatus: http.StatusTeapot, wantGot: "GET /"},
		{name: "GET an HTTP function's path", method: http.MethodGet, path: "/web/a/b?q=1", wantStatus: http.StatusTeapot, wantGot: "GET /a/b?q=1"},
		{name: "DELETE on an HTTP function", method: http.MethodDelete, path: "/web/x", wantStatus: http.StatusTeapot, wantGot: "DELETE /x"},
		{name: "PUT on an HTTP function", method: http.MethodPut, path: "/web", wantStatus: http.StatusTeapot, wantGot: "PUT /"},
		{name: "GET an unknown function", method: http.MethodGet, path: "/nope", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, h, tt.method, tt.path, "", nil)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("got status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if got := resp.Header.Get("X-Got"); got != tt.wantGot {
				t.Errorf("the function got %q, want %q", got, tt.wantGot)
			}
		})
	}
}

func TestCloudEventCheck(t *testing.T) {
	fn := echo(t)
	h := New(Config{
		Target:      &fakeTarget{urls: map[string]string{"order-processor": fn.URL, "checkout": fn.URL}},
		CloudEvents: func(name string) bool { return name == "order-processor" },
	})
	binary := http.Header{"Ce-Id": {"1"}, "Ce-Specversion": {"1.0"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}}
	structured := http.Header{"Content-Type": {"application/cloudevents+json; charset=utf-8"}}
	const event = `{"specversion":"1.0","id":"1","source":"s","type":"t","data":{}}`
	tests := []struct {
		name, path string
		header     http.Header
		body       string
		wantStatus int
		wantError  string
	}{
		{name: "binary", path: "/order-processor", header: binary, body: "{}", wantStatus: http.StatusAccepted},
		{name: "structured", path: "/order-processor", header: structured, body: event, wantStatus: http.StatusAccepted},
		{name: "structured 0.3", path: "/order-processor", header: structured,
			body: `{"specversion":"0.3","id":"1","source":"s","type":"t"}`, wantStatus: http.StatusAccepted},
		{name: "plain JSON", path: "/order-processor", header: http.Header{"Content-Type": {"application/json"}}, body: "{}",
			wantStatus: http.StatusBadRequest, wantError: "ce-specversion, ce-id, ce-source, ce-type"},
		{name: "binary without id", path: "/order-processor/x", header: http.Header{"Ce-Specversion": {"1.0"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}},
			wantStatus: http.StatusBadRequest, wantError: "headers ce-id;"},
		{name: "binary specversion 2.0", path: "/order-processor", header: http.Header{"Ce-Id": {"1"}, "Ce-Specversion": {"2.0"}, "Ce-Source": {"s"}, "Ce-Type": {"t"}},
			wantStatus: http.StatusUnsupportedMediaType, wantError: `specversion "2.0" is not supported; use one of 1.0, 0.3`},
		{name: "structured, malformed JSON", path: "/order-processor", header: structured, body: `{"specversion":"1.0",`,
			wantStatus: http.StatusBadRequest, wantError: "not a JSON object: unexpected end of JSON input"},
		{name: "structured, an array", path: "/order-processor", header: structured, body: `[]`,
			wantStatus: http.StatusBadRequest, wantError: "not a JSON object"},
		{name: "structured, no specversion", path: "/order-processor", header: structured, body: `{"id":"1"}`,
			wantStatus: http.StatusBadRequest, wantError: "specversion is missing"},
		{name: "structured, specversion 2.0", path: "/order-processor", header: structured,
			body: `{"specversion":"2.0","id":"1","source":"s","type":"t"}`, wantStatus: http.StatusUnsupportedMediaType, wantError: `specversion "2.0"`},
		{name: "structured, no source", path: "/order-processor", header: structured, body: `{"specversion":"1.0","id":"1","type":"t"}`,
			wantStatus: http.StatusBadRequest, wantError: "source: REQUIRED"},
		{name: "structured XML", path: "/order-processor", header: http.Header{"Content-Type": {"application/cloudevents+xml"}}, body: "<e/>",
			wantStatus: http.StatusUnsupportedMediaType, wantError: "application/cloudevents+xml are not supported"},
		{name: "plain HTTP function", path: "/checkout", header: http.Header{"Content-Type": {"application/json"}}, body: "{}",
			wantStatus: http.StatusAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, h, http.MethodPost, tt.path, tt.body, tt.header)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if got := errorBody(t, resp, body); !strings.Contains(got, tt.wantError) {
					t.Errorf("got error %q, want it to contain %q", got, tt.wantError)
				}
			}
			if tt.wantStatus == http.StatusAccepted && body != "echo:"+tt.body {
				t.Errorf("got body %q, want the function to get %q", body, tt.body)
			}
		})
	}
}

func TestMetricsRoute(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("funcd_up 1\n")) })
	with := New(Config{Target: &fakeTarget{}, Metrics: metrics})
	if resp, body := do(t, with, http.MethodGet, "/metrics", "", nil); resp.StatusCode != http.StatusOK || body != "funcd_up 1\n" {
		t.Errorf("GET /metrics: got %d %q, want the metrics", resp.StatusCode, body)
	}
	without := New(Config{Target: &fakeTarget{}})
	if resp, _ := do(t, without, http.MethodGet, "/metrics", "", nil); resp.StatusCode == http.StatusOK {
		t.Errorf("GET /metrics without a Metrics handler: got 200")
	}
}
