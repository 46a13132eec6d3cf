package resources

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Kinds and API versions this package understands.
const (
	KindComponent    = "Component"
	KindSubscription = "Subscription"

	apiComponentV1alpha1    = "dapr.io/v1alpha1"
	apiSubscriptionV1alpha1 = "dapr.io/v1alpha1"
	apiSubscriptionV2alpha1 = "dapr.io/v2alpha1"
)

// Meta is the part of Kubernetes object metadata Dapr resources use.
type Meta struct {
	Name        string            `json:"name"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// Component is a Dapr Component resource (dapr.io/v1alpha1).
type Component struct {
	Name    string
	Type    string // e.g. pubsub.jetstream
	Version string // e.g. v1
	// Metadata holds the resolved metadata values (envRef applied).
	Metadata map[string]string
	Scopes   []string
	// IgnoreErrors and InitTimeout are carried as daprd reads them.
	IgnoreErrors bool
	InitTimeout  string
	// File is where the resource was read from.
	File string
}

// Category is the part of the type before the first dot: "pubsub", "bindings", ...
func (c Component) Category() string {
	cat, _, _ := strings.Cut(c.Type, ".")
	return cat
}

// Subscription is a Dapr declarative Subscription (dapr.io/v2alpha1, or
// v1alpha1 converted to v2alpha1 the way daprd converts it).
type Subscription struct {
	Name            string
	PubsubName      string
	Topic           string
	Routes          Routes
	DeadLetterTopic string
	BulkSubscribe   BulkSubscribe
	Metadata        map[string]string
	Scopes          []string
	File            string
}

// Routes selects the path (for us: the function) an event goes to.
type Routes struct {
	Rules   []Rule `json:"rules,omitempty"`
	Default string `json:"default,omitempty"`
}

// Rule routes events matching a CEL expression to a path.
type Rule struct {
	Match string `json:"match"`
	Path  string `json:"path"`
}

// BulkSubscribe is Dapr's bulk subscription setting.
type BulkSubscribe struct {
	Enabled            bool  `json:"enabled"`
	MaxMessagesCount   int32 `json:"maxMessagesCount,omitempty"`
	MaxAwaitDurationMs int32 `json:"maxAwaitDurationMs,omitempty"`
}

// Set is every resource read from a folder.
type Set struct {
	Components    []Component
	Subscriptions []Subscription
	Resiliencies  []Resiliency
	// Skipped names documents of kinds this package does not run.
	Skipped []string
}

// Component returns the component with the given name.
func (s *Set) Component(name string) (Component, bool) {
	for _, c := range s.Components {
		if c.Name == name {
			return c, true
		}
	}
	return Component{}, false
}

// nameValue is one Dapr metadata item.
type nameValue struct {
	Name         string          `json:"name"`
	Value        json.RawMessage `json:"value,omitempty"`
	SecretKeyRef *struct {
		Name string `json:"name"`
		Key  string `json:"key"`
	} `json:"secretKeyRef,omitempty"`
	EnvRef string `json:"envRef,omitempty"`
}

// resolve returns the item's value as daprd sees it: strings as they are,
// numbers and booleans in their YAML spelling, envRef read from lookup.
func (nv nameValue) resolve(lookup func(string) (string, bool)) (string, error) {
	switch {
	case nv.SecretKeyRef != nil && nv.SecretKeyRef.Name != "":
		return "", fmt.Errorf("secretKeyRef is not supported here; use value or envRef")
	case nv.EnvRef != "":
		v, ok := lookup(nv.EnvRef)
		if !ok {
			return "", fmt.Errorf("envRef %s: environment variable is not set", nv.EnvRef)
		}
		return v, nil
	case len(nv.Value) == 0 || string(nv.Value) == "null":
		return "", nil
	}
	var s string
	if err := json.Unmarshal(nv.Value, &s); err == nil {
		return s, nil
	}
	switch nv.Value[0] {
	case '{', '[':
		return "", fmt.Errorf("value must be a string, number or boolean")
	}
	return string(nv.Value), nil
}
