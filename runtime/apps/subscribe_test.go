package apps

import (
	"context"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/resources"
)

func TestParseSubscriptions(t *testing.T) {
	got, err := parseSubscriptions([]byte(`[
	 {"pubsubname":"orderpubsub","topic":"orders","route":"orders","metadata":{"rawPayload":"true"},"deadLetterTopic":"dlq"},
	 {"pubsubname":"orderpubsub","topic":"v2","routes":{"rules":[{"match":"event.type == \"a\"","path":"/a"}],"default":"/d"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := []resources.Subscription{
		{Name: "app", PubsubName: "orderpubsub", Topic: "orders", Routes: resources.Routes{Default: "orders"},
			Metadata: map[string]string{"rawPayload": "true"}, DeadLetterTopic: "dlq", File: "GET /dapr/subscribe of app"},
		{Name: "app", PubsubName: "orderpubsub", Topic: "v2", File: "GET /dapr/subscribe of app",
			Routes: resources.Routes{Rules: []resources.Rule{{Match: `event.type == "a"`, Path: "/a"}}, Default: "/d"}},
	}
	for i, p := range got {
		if r := p.resource("app"); !reflect.DeepEqual(r, want[i]) {
			t.Errorf("item %d:\n got %+v\nwant %+v", i, r, want[i])
		}
	}
}

func TestParseSubscriptionsErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"pubsubname":"p"}`, "want a JSON array"},
		{`[{"topic":"t","route":"r"}]`, "pubsubname is empty"},
		{`[{"pubsubname":"p","route":"r"}]`, "topic is empty"},
		{`[{"pubsubname":"p","topic":"t"}]`, "no route"},
		{`[{"pubsubname":"p","topic":"t","metadata":{"a":1}}]`, "want a JSON array"},
	}
	for _, tt := range tests {
		if _, err := parseSubscriptions([]byte(tt.body)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.body, err, tt.want)
		}
	}
	for _, empty := range []string{"", "null", " [] "} {
		if got, err := parseSubscriptions([]byte(empty)); err != nil || len(got) != 0 {
			t.Errorf("%q: %v %v, want none", empty, got, err)
		}
	}
}

func TestDiscover(t *testing.T) {
	tests := []struct {
		status  int
		body    string
		want    int
		wantErr string
	}{
		{200, `[{"pubsubname":"p","topic":"t","route":"/r"}]`, 1, ""},
		{404, "no", 0, ""},
		{500, "boom", 0, "answered 500"},
		{200, strings.Repeat(" ", maxSubscribeBytes+1), 0, "larger than"},
	}
	for _, tt := range tests {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/dapr/subscribe" || r.Header.Get("dapr-api-token") != "tok" {
				t.Errorf("got %s with token %q", r.URL.Path, r.Header.Get("dapr-api-token"))
			}
			w.WriteHeader(tt.status)
			_, _ = w.Write([]byte(tt.body))
		}))
		got, err := discover(context.Background(), srv.Client(), srv.URL, "tok")
		srv.Close()
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%d: error %v, want %q", tt.status, err, tt.wantErr)
			}
			continue
		}
		if err != nil || len(got) != tt.want {
			t.Errorf("%d: got %d subscriptions, %v; want %d", tt.status, len(got), err, tt.want)
		}
	}
}

func TestDeclared(t *testing.T) {
	subs := []resources.Subscription{
		{Name: "scoped", Scopes: []string{"a"}, File: "/res/a.yaml"},
		{Name: "other-app", Scopes: []string{"b"}, File: "/res/b.yaml"},
		{Name: "unscoped-app", Routes: resources.Routes{Default: "/orders"}, File: "/res/c.yaml"},
		{Name: "unscoped-function", Routes: resources.Routes{Default: "/order-processor"}, File: "/res/d.yaml"},
		{Name: "elsewhere", Scopes: []string{"a"}, File: "/other/e.yaml"},
	}
	forFunctions := func(s resources.Subscription) bool { return s.Routes.Default == "/order-processor" }
	var names []string
	for _, s := range Declared(subs, "a", []string{"/res"}, forFunctions) {
		names = append(names, s.Name)
	}
	if want := []string{"scoped", "unscoped-app"}; !reflect.DeepEqual(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
}

func FuzzParseSubscriptions(f *testing.F) {
	f.Add([]byte(`[{"pubsubname":"p","topic":"t","route":"r"}]`))
	f.Add([]byte(`[{"pubsubname":"p","topic":"t","routes":{"rules":[{"match":"x","path":"y"}]},"bulkSubscribe":{"enabled":true}}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		subs, err := parseSubscriptions(body)
		if err != nil {
			return
		}
		for _, s := range subs {
			r := s.resource("app")
			if r.PubsubName == "" || r.Topic == "" || len(r.Paths()) == 0 {
				t.Fatalf("accepted %+v", r)
			}
		}
	})
}
