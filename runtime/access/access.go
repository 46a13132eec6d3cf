package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dapr/dapr/pkg/scopes"

	"github.com/funcd/funcd/runtime/resources"
)

// ErrForbidden is wrapped by the errors of Publish and Subscribe.
var ErrForbidden = errors.New("topic not allowed")

// Policy holds the access rules of a set of pub/sub Components. The zero
// Policy, and a Policy with no rules, allows everything.
type Policy struct {
	comps map[string]rules
}

// rules are one Component's access rules, read once: publishes ask for
// them on every call.
type rules struct {
	resources.Component
	allowed, protected []string
	scoped             map[string]bool // publishingScopes / subscriptionScopes set (non-empty)
}

// New returns the Policy of comps; components of other categories are
// ignored.
func New(comps []resources.Component) *Policy {
	p := &Policy{comps: map[string]rules{}}
	for _, c := range comps {
		if c.Category() != "pubsub" {
			continue
		}
		r := rules{Component: c, allowed: scopes.GetAllowedTopics(c.Metadata),
			protected: scopes.GetProtectedTopics(c.Metadata), scoped: map[string]bool{}}
		for key, value := range c.Metadata {
			for _, scope := range []string{scopes.PublishingScopes, scopes.SubscriptionScopes} {
				if strings.EqualFold(key, scope) && value != "" {
					r.scoped[scope] = true
				}
			}
		}
		p.comps[c.Name] = r
	}
	return p
}

// Loads reports whether app may use the pub/sub component name: true when
// the Component has no scopes or lists app. daprd does not load a
// Component for an app outside its scopes, so for that app it does not
// exist.
func (p *Policy) Loads(app, name string) bool {
	c, ok := p.comps[name]
	return !ok || len(c.Scopes) == 0 || slices.Contains(c.Scopes, app)
}

// Publish returns nil if app may publish to topic on the component name,
// else an error wrapping ErrForbidden that says which rule refuses it.
func (p *Policy) Publish(app, name, topic string) error {
	return p.check(scopes.PublishingScopes, "publish to", app, name, topic)
}

// Subscribe returns nil if app may subscribe to topic on the component
// name, else an error wrapping ErrForbidden that says which rule refuses it.
func (p *Policy) Subscribe(app, name, topic string) error {
	return p.check(scopes.SubscriptionScopes, "subscribe to", app, name, topic)
}

func (p *Policy) check(scope, op, app, name, topic string) error {
	c, ok := p.comps[name]
	if !ok {
		return nil
	}
	if len(c.allowed) > 0 && !slices.Contains(c.allowed, topic) {
		return fmt.Errorf("%w: %s may not %s %s/%s: allowedTopics of %s (%s) does not list it",
			ErrForbidden, app, op, name, topic, name, c.File)
	}
	protected := slices.Contains(c.protected, topic)
	if !protected && !c.scoped[scope] {
		return nil // the common case: nothing to parse per call
	}
	scoped := scopes.GetScopedTopics(scope, app, c.Metadata)
	if !protected && len(scoped) == 0 {
		return nil
	}
	if slices.Contains(scoped, topic) {
		return nil
	}
	why := fmt.Sprintf("%s of %s (%s) limits %s to %s", scope, name, c.File, app, topicList(scoped))
	if len(scoped) == 0 {
		why = fmt.Sprintf("%s is in protectedTopics of %s (%s) and %s does not grant it to %s", topic, name, c.File, scope, app)
	}
	return fmt.Errorf("%w: %s may not %s %s/%s: %s", ErrForbidden, app, op, name, topic, why)
}

// topicList spells a scoped topic list for an error; "app=" grants none.
func topicList(topics []string) string {
	topics = slices.DeleteFunc(slices.Clone(topics), func(t string) bool { return t == "" })
	if len(topics) == 0 {
		return "no topic"
	}
	return fmt.Sprint(topics)
}
