package resources

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var (
	// ErrInvalid marks every validation failure.
	ErrInvalid = errors.New("invalid resource")

	dns1123   = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	typeRegex = regexp.MustCompile(`^[a-z0-9]+\.[a-zA-Z0-9.\-_]+$`)
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

func (c Component) validate() error {
	switch {
	case c.Name == "":
		return invalid("metadata.name is required")
	case !dns1123.MatchString(c.Name):
		return invalid("metadata.name %q must be lowercase letters, digits, '-' or '.'", c.Name)
	case c.Type == "":
		return invalid("spec.type is required (e.g. pubsub.redis)")
	case !typeRegex.MatchString(c.Type):
		return invalid("spec.type %q must look like <category>.<name>, e.g. pubsub.redis", c.Type)
	case c.Version == "":
		return invalid("spec.version is required (e.g. v1)")
	}
	return nil
}

func (s Subscription) validate() error {
	switch {
	case s.Name == "":
		return invalid("metadata.name is required")
	case s.PubsubName == "":
		return invalid("spec.pubsubname is required")
	case s.Topic == "":
		return invalid("spec.topic is required")
	case s.Routes.Default == "" && len(s.Routes.Rules) == 0:
		return invalid("a route is required: spec.routes.default or spec.routes.rules (v1alpha1: spec.route)")
	}
	for i, r := range s.Routes.Rules {
		if r.Path == "" {
			return invalid("spec.routes.rules[%d].path is required", i)
		}
	}
	if b := s.BulkSubscribe; b.MaxMessagesCount < 0 || b.MaxAwaitDurationMs < 0 {
		return invalid("spec.bulkSubscribe: maxMessagesCount and maxAwaitDurationMs must not be negative")
	}
	return nil
}

// Paths lists every route path of the subscription: the rules' in order, then
// the default.
func (s Subscription) Paths() []string {
	paths := make([]string, 0, len(s.Routes.Rules)+1)
	for _, r := range s.Routes.Rules {
		paths = append(paths, r.Path)
	}
	if s.Routes.Default != "" {
		paths = append(paths, s.Routes.Default)
	}
	return paths
}

// Function returns the function a route path names: the first path segment,
// so "/order-processor", "order-processor" and "/order-processor/orders" all
// name order-processor.
func Function(path string) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	return name
}

// Validate checks references between resources: unique names, subscriptions
// naming existing pub/sub components, no route claimed twice for a topic,
// resiliency targets naming defined policies.
func (s *Set) Validate() error {
	comps := make(map[string]Component, len(s.Components))
	for _, c := range s.Components {
		if prev, dup := comps[c.Name]; dup {
			return invalid("component %q is defined twice (%s and %s)", c.Name, prev.File, c.File)
		}
		comps[c.Name] = c
	}
	subs := make(map[string]Subscription, len(s.Subscriptions))
	routes := make(map[string]string)
	for _, sub := range s.Subscriptions {
		if prev, dup := subs[sub.Name]; dup {
			return invalid("subscription %q is defined twice (%s and %s)", sub.Name, prev.File, sub.File)
		}
		subs[sub.Name] = sub
		c, ok := comps[sub.PubsubName]
		if !ok {
			return invalid("%s: subscription %q: pub/sub component %q is not defined in the resources folder",
				sub.File, sub.Name, sub.PubsubName)
		}
		if c.Category() != "pubsub" {
			return invalid("%s: subscription %q: component %q is a %s component, not pubsub",
				sub.File, sub.Name, sub.PubsubName, c.Type)
		}
		for _, p := range sub.Paths() {
			key := sub.PubsubName + "/" + sub.Topic + " -> " + Function(p)
			if other, dup := routes[key]; dup && other != sub.Name {
				return invalid("subscriptions %q (%s) and %q (%s) both route %s",
					other, subs[other].File, sub.Name, sub.File, key)
			}
			routes[key] = sub.Name
		}
	}
	return s.validateResiliencies()
}
