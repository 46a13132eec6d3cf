package access_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/resources"
)

func component(scopes []string, meta map[string]string) resources.Component {
	return resources.Component{Name: "orderpubsub", Type: "pubsub.redis", Version: "v1", Metadata: meta, Scopes: scopes, File: "pubsub.yaml"}
}

func TestLoads(t *testing.T) {
	p := access.New([]resources.Component{
		component([]string{"checkout"}, nil),
		{Name: "open", Type: "pubsub.in-memory"},
		// Scopes of other categories are not this package's business.
		{Name: "cron", Type: "bindings.cron", Scopes: []string{"nobody"}},
	})
	for _, tt := range []struct {
		app, name string
		want      bool
	}{
		{"checkout", "orderpubsub", true},
		{"order-processor", "orderpubsub", false},
		{"order-processor", "open", true},
		{"order-processor", "unknown", true}, // not ours to refuse: the publish API answers not found
		{"order-processor", "cron", true},
	} {
		if got := p.Loads(tt.app, tt.name); got != tt.want {
			t.Errorf("Loads(%s, %s) = %v, want %v", tt.app, tt.name, got, tt.want)
		}
	}
}

// TestTopicRules follows daprd's IsOperationAllowed and the examples of
// Dapr's "Scope Pub/sub topic access" documentation.
func TestTopicRules(t *testing.T) {
	tests := []struct {
		name   string
		meta   map[string]string
		app    string
		topic  string
		pub    bool   // Publish allowed
		sub    bool   // Subscribe allowed
		reason string // in the error when refused
	}{
		{"no rules", nil, "checkout", "orders", true, true, ""},
		{"publishing scoped to the topic", map[string]string{"publishingScopes": "checkout=orders,returns"}, "checkout", "orders", true, true, ""},
		{"publishing scoped elsewhere", map[string]string{"publishingScopes": "checkout=returns"}, "checkout", "orders", false, true, "publishingScopes of orderpubsub (pubsub.yaml) limits checkout to [returns]"},
		{"app= grants nothing", map[string]string{"publishingScopes": "checkout="}, "checkout", "orders", false, true, "limits checkout to no topic"},
		{"other apps unrestricted", map[string]string{"publishingScopes": "checkout=returns;audit="}, "order-processor", "orders", true, true, ""},
		{"spaces ignored, key case-insensitive", map[string]string{"PublishingScopes": " checkout = returns , orders "}, "checkout", "orders", true, true, ""},
		{"subscription scoped", map[string]string{"subscriptionScopes": "order-processor=returns"}, "order-processor", "orders", true, false, "subscriptionScopes of orderpubsub (pubsub.yaml) limits order-processor to [returns]"},
		{"allowedTopics lists it", map[string]string{"allowedTopics": "orders,returns"}, "checkout", "orders", true, true, ""},
		{"allowedTopics does not list it", map[string]string{"allowedTopics": "returns"}, "checkout", "orders", false, false, "allowedTopics of orderpubsub (pubsub.yaml) does not list it"},
		{"allowedTopics wins over a scope", map[string]string{"allowedTopics": "returns", "publishingScopes": "checkout=orders"}, "checkout", "orders", false, false, "allowedTopics"},
		{"protected, not granted", map[string]string{"protectedTopics": "orders"}, "checkout", "orders", false, false, "orders is in protectedTopics of orderpubsub (pubsub.yaml) and publishingScopes does not grant it to checkout"},
		{"protected, granted", map[string]string{"protectedTopics": "orders", "publishingScopes": "checkout=orders", "subscriptionScopes": "checkout=orders"}, "checkout", "orders", true, true, ""},
		{"protected elsewhere", map[string]string{"protectedTopics": "payments"}, "checkout", "orders", true, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := access.New([]resources.Component{component(nil, tt.meta)})
			for _, op := range []struct {
				name  string
				check func(app, name, topic string) error
				want  bool
			}{{"Publish", p.Publish, tt.pub}, {"Subscribe", p.Subscribe, tt.sub}} {
				err := op.check(tt.app, "orderpubsub", tt.topic)
				if op.want {
					if err != nil {
						t.Errorf("%s: got %v, want allowed", op.name, err)
					}
					continue
				}
				if !errors.Is(err, access.ErrForbidden) {
					t.Errorf("%s: got %v, want ErrForbidden", op.name, err)
					continue
				}
				if op.name == "Publish" && !strings.Contains(err.Error(), tt.reason) {
					t.Errorf("%s: got %q, want it to say %q", op.name, err, tt.reason)
				}
			}
		})
	}
}

func TestZeroPolicyAllows(t *testing.T) {
	var p access.Policy
	if !p.Loads("a", "b") || p.Publish("a", "b", "c") != nil || p.Subscribe("a", "b", "c") != nil {
		t.Error("the zero Policy refused something")
	}
}
