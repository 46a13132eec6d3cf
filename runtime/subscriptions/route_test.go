package subscriptions

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	contrib "github.com/dapr/components-contrib/pubsub"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/resources"
)

// ceWith builds a daprd envelope for a JSON order with extra envelope
// fields (extensions) set.
func ceWith(t *testing.T, typ string, data string, ext map[string]any) []byte {
	t.Helper()
	env := contrib.NewCloudEventsEnvelope("id-1", "checkout", typ, "", "orders", "orderpubsub",
		"application/json", []byte(data), "", "")
	for k, v := range ext {
		env[k] = v
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCELRouting(t *testing.T) {
	rules := []resources.Rule{
		{Match: `event.type == "com.example.refund"`, Path: "/refunds"},
		{Match: `event.data.amount > 100`, Path: "/big"},
		{Match: `has(event.priority) && event.priority == "high"`, Path: "/urgent"},
		{Match: `event.topic == "orders" && event.pubsubname == "orderpubsub" && event.data.orderId == 7`, Path: "/seven/sub-path"},
	}
	tests := []struct {
		name     string
		def      string
		dlq      string
		typ      string
		data     string
		ext      map[string]any
		want     string // function called, "" for none
		wantDLQ  int
		wantNack bool
	}{
		{name: "first rule", typ: "com.example.refund", data: `{"amount":500}`, want: "refunds"},
		{name: "first match wins over later", typ: "com.example.refund", data: `{"amount":500,"orderId":7}`, want: "refunds"},
		{name: "data field", typ: "com.example.order", data: `{"amount":500}`, want: "big"},
		{name: "extension", typ: "com.example.order", data: `{"amount":5}`, ext: map[string]any{"priority": "high"}, want: "urgent"},
		{name: "dapr fields and path with sub-path", typ: "com.example.order", data: `{"amount":5,"orderId":7}`, want: "seven"},
		{name: "default", def: "/fallback", typ: "com.example.order", data: `{"amount":5,"orderId":1}`, want: "fallback"},
		{name: "no match is dropped and acked", typ: "com.example.order", data: `{"amount":5,"orderId":1}`},
		{name: "no match goes to the dead-letter topic", dlq: "dlq", typ: "com.example.order", data: `{"amount":5,"orderId":1}`, wantDLQ: 1},
		// event.data.amount on data without it fails to evaluate: the same
		// on every delivery, so it is permanent.
		{name: "evaluation error is dead-lettered", dlq: "dlq", typ: "com.example.order", data: `{"orderId":1}`, wantDLQ: 1},
		{name: "evaluation error without dead-letter topic is dropped", typ: "com.example.order", data: `{"orderId":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := staticTarget{}
			calls := map[string]*[]received{}
			for _, fn := range []string{"refunds", "big", "urgent", "seven", "fallback"} {
				srv, got := function(t, "", http.StatusOK)
				target[fn], calls[fn] = srv.URL, got
			}
			sub := resources.Subscription{Routes: resources.Routes{Rules: rules, Default: tt.def}, DeadLetterTopic: tt.dlq}
			_, ps := start(t, Config{Target: target}, sub)
			err := deliver(t, ps, ceWith(t, tt.typ, tt.data, tt.ext))
			if (err != nil) != tt.wantNack {
				t.Errorf("handler = %v, want error %v", err, tt.wantNack)
			}
			for fn, got := range calls {
				want := 0
				if fn == tt.want {
					want = 1
				}
				if len(*got) != want {
					t.Errorf("function %s called %d times, want %d", fn, len(*got), want)
				}
			}
			if n := len(ps.publishedOn("dlq")); n != tt.wantDLQ {
				t.Errorf("dead letters = %d, want %d", n, tt.wantDLQ)
			}
		})
	}
}

func TestCELRoutingTextAndRawPayload(t *testing.T) {
	tests := []struct {
		name string
		meta map[string]string
		data []byte
		rule string
	}{
		// daprd embeds text/plain data as a string.
		{name: "text/plain data is a string", data: envelope(t, "", []byte(order)), rule: `event.data.startsWith("{")`},
		// daprd wraps a raw payload: data_base64, octet-stream, a random id.
		{name: "raw payload", meta: map[string]string{"rawPayload": "true"}, data: []byte(order),
			rule: `event.datacontenttype == "application/octet-stream" && has(event.data_base64)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, got := function(t, "", http.StatusOK)
			sub := resources.Subscription{Metadata: tt.meta, Routes: resources.Routes{Rules: []resources.Rule{{Match: tt.rule, Path: "/order-processor"}}}}
			_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}}, sub)
			if err := deliver(t, ps, tt.data); err != nil {
				t.Fatalf("handler = %v, want nil", err)
			}
			if len(*got) != 1 {
				t.Errorf("function called %d times, want 1 (rule %s)", len(*got), tt.rule)
			}
		})
	}
}

func TestCELRuleWithoutMatchAlwaysMatches(t *testing.T) {
	srv, got := function(t, "", http.StatusOK)
	sub := resources.Subscription{Routes: resources.Routes{Rules: []resources.Rule{{Match: "  ", Path: "/order-processor"}}}}
	_, ps := start(t, Config{Target: staticTarget{"order-processor": srv.URL}}, sub)
	if err := deliver(t, ps, envelope(t, "application/json", []byte(order))); err != nil || len(*got) != 1 {
		t.Errorf("handler = %v, calls = %d, want nil and 1 (an empty match is always true, as in daprd)", err, len(*got))
	}
}

func TestNewRejectsBadRules(t *testing.T) {
	tests := []struct {
		name    string
		rules   []resources.Rule
		wantErr []string
	}{
		{name: "syntax", rules: []resources.Rule{{Match: `event.type ==`, Path: "/a"}},
			wantErr: []string{"sub.yaml", "subscription orders-sub", "spec.routes.rules[0].match"}},
		{name: "second rule", rules: []resources.Rule{{Match: `true`, Path: "/a"}, {Match: `event.type = "x"`, Path: "/b"}},
			wantErr: []string{"spec.routes.rules[1].match"}},
		{name: "variable other than event", rules: []resources.Rule{{Match: `topic == "orders"`, Path: "/a"}},
			wantErr: []string{"spec.routes.rules[0].match", "only the variable event"}},
		{name: "undeclared name", rules: []resources.Rule{{Match: `evnt.type == "x"`, Path: "/a"}},
			wantErr: []string{"spec.routes.rules[0].match", "only the variable event"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub := resources.Subscription{Name: "orders-sub", PubsubName: "orderpubsub", Topic: "orders", File: "sub.yaml",
				Routes: resources.Routes{Rules: tt.rules}}
			_, err := New(Config{Subscriptions: []resources.Subscription{sub}, PubSubs: registry{"orderpubsub": &fakePubSub{}}, Target: staticTarget{}})
			if err == nil {
				t.Fatal("New = nil, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

func TestRouterNonBoolean(t *testing.T) {
	r, err := newRouter(resources.Subscription{Routes: resources.Routes{Rules: []resources.Rule{{Match: `event.type`, Path: "/a"}}}}, resources.Function, false)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.route(map[string]any{"type": "x"})
	var perm *delivery.PermanentError
	if !errors.As(err, &perm) || !strings.Contains(err.Error(), "not a boolean") {
		t.Errorf("route = %v, want a permanent not-a-boolean error", err)
	}
}
