package platform

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/sidecar"
)

// publishAPI serves the publish API of app over the real in-memory
// component, with comps' access rules.
func publishAPI(t *testing.T, app string, comps ...resources.Component) http.Handler {
	t.Helper()
	reg := pubsub.NewRegistry()
	t.Cleanup(func() { reg.Close() })
	for _, c := range comps {
		ps, err := embedded.Open(t.Context(), c, embedded.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.Add(c.Name, c.Type, ps); err != nil {
			t.Fatal(err)
		}
	}
	policy := access.New(comps)
	sc, err := sidecar.New(app, scoped{comps: sidecar.FromRegistry(reg), app: app, policy: policy, log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return sc.HTTPHandler()
}

func inMemory(name string, scopes []string, meta map[string]string) resources.Component {
	return resources.Component{Name: name, Type: "pubsub.in-memory", Version: "v1", Scopes: scopes, Metadata: meta, File: name + ".yaml"}
}

func TestPublishAPIAppliesAccessRules(t *testing.T) {
	comps := []resources.Component{
		inMemory("orderpubsub", nil, map[string]string{"publishingScopes": "checkout=orders;order-processor=", "protectedTopics": "payments"}),
		inMemory("private", []string{"order-processor"}, nil),
	}
	tests := []struct {
		app, pubsub, topic string
		code               int
		errorCode          string
	}{
		{"checkout", "orderpubsub", "orders", http.StatusNoContent, ""},
		{"checkout", "orderpubsub", "returns", http.StatusForbidden, "ERR_PUBSUB_FORBIDDEN"},
		{"order-processor", "orderpubsub", "orders", http.StatusForbidden, "ERR_PUBSUB_FORBIDDEN"},
		{"audit", "orderpubsub", "orders", http.StatusNoContent, ""},                       // not listed: unrestricted
		{"audit", "orderpubsub", "payments", http.StatusForbidden, "ERR_PUBSUB_FORBIDDEN"}, // protected
		{"order-processor", "private", "anything", http.StatusNoContent, ""},
		{"checkout", "private", "anything", http.StatusNotFound, "ERR_PUBSUB_NOT_FOUND"}, // out of the Component's scopes
	}
	for _, tt := range tests {
		h := publishAPI(t, tt.app, comps...)
		req := httptest.NewRequest(http.MethodPost, "/v1.0/publish/"+tt.pubsub+"/"+tt.topic, strings.NewReader(`{"orderId":1}`))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.code || !strings.Contains(rec.Body.String(), tt.errorCode) {
			t.Errorf("%s publishing to %s/%s: got %d %s, want %d %s", tt.app, tt.pubsub, tt.topic, rec.Code, rec.Body, tt.code, tt.errorCode)
		}
	}
}

func TestMetadataListsOnlyLoadedComponents(t *testing.T) {
	h := publishAPI(t, "checkout", inMemory("orderpubsub", []string{"checkout"}, nil), inMemory("private", []string{"order-processor"}, nil))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1.0/metadata", nil))
	var md struct {
		Components []struct{ Name string } `json:"components"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &md); err != nil {
		t.Fatalf("metadata: %v (%s)", err, rec.Body)
	}
	var names []string
	for _, c := range md.Components {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, []string{"orderpubsub"}) {
		t.Errorf("checkout's metadata lists %v, want [orderpubsub]", names)
	}
}

func TestActiveSubscriptions(t *testing.T) {
	policy := access.New([]resources.Component{
		inMemory("orderpubsub", nil, map[string]string{"subscriptionScopes": "audit=returns", "protectedTopics": "payments"}),
	})
	sub := func(name, topic, route string, scopes ...string) resources.Subscription {
		return resources.Subscription{Name: name, PubsubName: "orderpubsub", Topic: topic, Routes: resources.Routes{Default: route}, Scopes: scopes, File: name + ".yaml"}
	}
	subs := []resources.Subscription{
		sub("plain", "orders", "/order-processor"),
		sub("scoped-in", "orders", "/order-processor", "order-processor"),
		sub("scoped-out", "orders", "/order-processor", "checkout"),
		sub("audit-orders", "orders", "/audit"), // subscriptionScopes limit audit to returns
		sub("audit-returns", "returns", "/audit"),
		sub("payments", "payments", "/order-processor"), // protected, granted to nobody
		{Name: "rules", PubsubName: "orderpubsub", Topic: "orders", Scopes: []string{"order-processor"}, File: "rules.yaml",
			Routes: resources.Routes{Rules: []resources.Rule{{Match: `event.type == "x"`, Path: "/audit"}}, Default: "/order-processor"}},
	}
	var logs bytes.Buffer
	got := activeSubscriptions(subs, policy, slog.New(slog.NewTextHandler(&logs, nil)))
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	if want := []string{"plain", "scoped-in", "audit-returns"}; !slices.Equal(names, want) {
		t.Errorf("got %v, want %v", names, want)
	}
	for _, want := range []string{
		"subscription=scoped-out", "it routes to order-processor, which its scopes [checkout] leave out",
		"subscription=audit-orders", "subscriptionScopes of orderpubsub",
		"subscription=payments", "payments is in protectedTopics",
		"subscription=rules", "it routes to audit",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log does not say %q:\n%s", want, logs.String())
		}
	}
}
