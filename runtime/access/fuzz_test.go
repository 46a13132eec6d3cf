package access_test

import (
	"errors"
	"testing"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/resources"
)

// FuzzRules: any metadata values, app and topic give an answer, never a
// panic, and a refusal always wraps ErrForbidden.
func FuzzRules(f *testing.F) {
	f.Add("checkout=orders;audit=", "app2=t1,t2", "orders,returns", "payments", "checkout", "orders")
	f.Add("=;;==,", "", " , ", ",", "", "")
	f.Fuzz(func(t *testing.T, pub, sub, allowed, protected, app, topic string) {
		p := access.New([]resources.Component{{Name: "ps", Type: "pubsub.redis", Scopes: []string{app}, Metadata: map[string]string{
			"publishingScopes": pub, "subscriptionScopes": sub, "allowedTopics": allowed, "protectedTopics": protected,
		}}})
		if !p.Loads(app, "ps") {
			t.Errorf("Loads(%q): false, but the Component's scopes list it", app)
		}
		for _, err := range []error{p.Publish(app, "ps", topic), p.Subscribe(app, "ps", topic)} {
			if err != nil && !errors.Is(err, access.ErrForbidden) {
				t.Errorf("got %v, want nil or ErrForbidden", err)
			}
		}
	})
}
