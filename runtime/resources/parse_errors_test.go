package resources

import (
	"errors"
	"strings"
	"testing"
)

// component returns a Component document with spec lines appended to its
// spec, or replacing it when spec starts with "!".
func component(name, spec string) string {
	head := "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: " + name + "\n"
	if rest, ok := strings.CutPrefix(spec, "!"); ok {
		return head + rest
	}
	return head + "spec:\n  type: pubsub.redis\n  version: v1\n" + spec
}

// subscription returns a v2alpha1 Subscription document with spec as its spec.
func subscription(name, spec string) string {
	return "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: " + name + "\nspec:\n" + spec
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // substrings, besides the file name
		invalid bool     // errors.Is(err, ErrInvalid)
	}{
		{
			name:    "envRef to a missing variable",
			yaml:    component("c", "  metadata:\n    - name: host\n      envRef: NOPE\n"),
			wantErr: []string{`component "c"`, "spec.metadata[0] (host)", "envRef NOPE", "not set"},
		},
		{
			name:    "secretKeyRef",
			yaml:    component("c", "  metadata:\n    - name: password\n      secretKeyRef: {name: s, key: k}\n"),
			wantErr: []string{"spec.metadata[0] (password)", "secretKeyRef is not supported", "envRef"},
		},
		{
			name:    "auth.secretStore",
			yaml:    component("c", "auth:\n  secretStore: vault\n"),
			wantErr: []string{"auth.secretStore is not supported"},
		},
		{
			name:    "object metadata value",
			yaml:    component("c", "  metadata:\n    - name: opts\n      value: {a: 1}\n"),
			wantErr: []string{"spec.metadata[0] (opts)", "string, number or boolean"},
		},
		{
			name:    "list metadata value",
			yaml:    component("c", "  metadata:\n    - name: opts\n      value: [1, 2]\n"),
			wantErr: []string{"spec.metadata[0] (opts)", "string, number or boolean"},
		},
		{
			name:    "metadata item without name",
			yaml:    component("c", "  metadata:\n    - value: x\n"),
			wantErr: []string{"spec.metadata[0].name is required"},
		},
		{
			name:    "unknown spec field",
			yaml:    component("c", "  tpye: pubsub.redis\n"),
			wantErr: []string{`unknown field "tpye"`},
		},
		{
			name:    "unknown top-level field",
			yaml:    component("c", "extra: 1\n"),
			wantErr: []string{`unknown field "extra"`},
		},
		{
			name:    "unknown subscription field",
			yaml:    subscription("s", "  pubsubname: ps\n  topic: t\n  routes: {default: /f}\n  deadLetter: x\n"),
			wantErr: []string{`subscription "s"`, `unknown field "deadLetter"`},
		},
		{
			name:    "v1alpha1 subscription with v2alpha1 routes",
			yaml:    strings.Replace(subscription("s", "  pubsubname: ps\n  topic: t\n  routes: {default: /f}\n"), "v2alpha1", "v1alpha1", 1),
			wantErr: []string{`unknown field "routes"`},
		},
		{
			name:    "wrong type",
			yaml:    subscription("s", "  pubsubname: ps\n  topic: [a, b]\n  routes: {default: /f}\n"),
			wantErr: []string{"spec.topic"},
		},
		{
			name:    "duplicate key",
			yaml:    component("c", "  type: pubsub.kafka\n"),
			wantErr: []string{`"type" already set`},
		},
		{name: "component without name", yaml: component(`""`, ""), wantErr: []string{"metadata.name is required"}, invalid: true},
		{name: "component with bad name", yaml: component("Order_PubSub", ""), wantErr: []string{"metadata.name", "lowercase"}, invalid: true},
		{name: "component without spec", yaml: component("c", "!"), wantErr: []string{"spec.type is required"}, invalid: true},
		{name: "component without type", yaml: component("c", "!spec: {version: v1}\n"), wantErr: []string{"spec.type is required"}, invalid: true},
		{name: "component with bad type", yaml: component("c", "!spec: {type: redis, version: v1}\n"), wantErr: []string{`spec.type "redis"`}, invalid: true},
		{name: "component without version", yaml: component("c", "!spec: {type: pubsub.redis}\n"), wantErr: []string{"spec.version is required"}, invalid: true},
		{name: "subscription without name", yaml: subscription(`""`, "  pubsubname: ps\n  topic: t\n  routes: {default: /f}\n"), wantErr: []string{"metadata.name is required"}, invalid: true},
		{name: "subscription without pubsubname", yaml: subscription("s", "  topic: t\n  routes: {default: /f}\n"), wantErr: []string{"spec.pubsubname is required"}, invalid: true},
		{name: "subscription without topic", yaml: subscription("s", "  pubsubname: ps\n  routes: {default: /f}\n"), wantErr: []string{"spec.topic is required"}, invalid: true},
		{name: "subscription without route", yaml: subscription("s", "  pubsubname: ps\n  topic: t\n"), wantErr: []string{"spec.routes.default", "spec.route"}, invalid: true},
		{name: "v1alpha1 subscription without route", yaml: "apiVersion: dapr.io/v1alpha1\nkind: Subscription\nmetadata: {name: s}\nspec: {pubsubname: ps, topic: t}\n", wantErr: []string{"spec.route"}, invalid: true},
		{name: "rule without path", yaml: subscription("s", "  pubsubname: ps\n  topic: t\n  routes:\n    rules: [{match: x}]\n"), wantErr: []string{"spec.routes.rules[0].path is required"}, invalid: true},
		{name: "negative bulk size", yaml: subscription("s", "  pubsubname: ps\n  topic: t\n  routes: {default: /f}\n  bulkSubscribe: {enabled: true, maxMessagesCount: -1}\n"), wantErr: []string{"spec.bulkSubscribe"}, invalid: true},
		{
			name:    "unsupported component apiVersion",
			yaml:    strings.Replace(component("c", ""), "dapr.io/v1alpha1", "dapr.io/v2alpha1", 1),
			wantErr: []string{`Component "c"`, `apiVersion "dapr.io/v2alpha1" is not supported`},
		},
		{
			name:    "unsupported subscription apiVersion",
			yaml:    strings.Replace(subscription("s", "  pubsubname: ps\n"), "dapr.io/v2alpha1", "dapr.io/v3", 1),
			wantErr: []string{`Subscription "s"`, `apiVersion "dapr.io/v3" is not supported`},
		},
		{name: "no kind", yaml: "apiVersion: dapr.io/v1alpha1\nmetadata: {name: c}\n", wantErr: []string{"apiVersion and kind are required"}},
		{name: "no apiVersion", yaml: "kind: Component\nmetadata: {name: c}\n", wantErr: []string{`apiVersion "" is not supported`}},
		{name: "no apiVersion, unknown kind", yaml: "kind: Thing\nmetadata: {name: c}\n", wantErr: []string{"apiVersion and kind are required"}},
		{name: "not a mapping", yaml: "- a\n- b\n", wantErr: []string{"not a resource"}},
		{name: "broken YAML", yaml: "kind: [Component\n", wantErr: []string{"not a resource"}},
		{name: "tab indentation", yaml: "kind: Component\n\tmetadata: {}\n", wantErr: []string{"not a resource"}},
		{
			name:    "second document is named",
			yaml:    component("a", "") + "---\n" + component("b", "  bogus: 1\n"),
			wantErr: []string{"document 2", `component "b"`},
		},
		{
			name:    "documents are counted from the first resource",
			yaml:    "---\n# comment\n---\n" + component("b", "  bogus: 1\n"),
			wantErr: []string{"document 1", `component "b"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Parse("dir/bad.yaml", []byte(tt.yaml), env(nil))
			if err == nil {
				t.Fatalf("got set %+v, want an error", set)
			}
			for _, want := range append([]string{"dir/bad.yaml: "}, tt.wantErr...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
			if got := errors.Is(err, ErrInvalid); got != tt.invalid {
				t.Errorf("got errors.Is(err, ErrInvalid) = %v, want %v", got, tt.invalid)
			}
		})
	}
}
