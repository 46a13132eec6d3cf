package resources

import (
	"reflect"
	"testing"
)

// env is a LookupEnv backed by a map.
func env(vars map[string]string) LookupEnv {
	return func(key string) (string, bool) {
		v, ok := vars[key]
		return v, ok
	}
}

const componentYAML = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orderpubsub
spec:
  type: pubsub.jetstream
  version: v1
  metadata:
    - name: ackWait
      value: "30s"
`

const subscriptionYAML = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: order-processor-orders
spec:
  pubsubname: orderpubsub
  topic: orders
  routes:
    default: /order-processor
  deadLetterTopic: orders-deadletter
`

func TestParse(t *testing.T) {
	orderpubsub := Component{
		Name: "orderpubsub", Type: "pubsub.jetstream", Version: "v1",
		Metadata: map[string]string{"ackWait": "30s"}, File: "f.yaml",
	}
	orders := Subscription{
		Name: "order-processor-orders", PubsubName: "orderpubsub", Topic: "orders",
		Routes: Routes{Default: "/order-processor"}, DeadLetterTopic: "orders-deadletter", File: "f.yaml",
	}
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want Set
	}{
		{
			name: "component",
			yaml: componentYAML,
			want: Set{Components: []Component{orderpubsub}},
		},
		{
			name: "two documents",
			yaml: componentYAML + "---\n" + subscriptionYAML,
			want: Set{Components: []Component{orderpubsub}, Subscriptions: []Subscription{orders}},
		},
		{
			name: "leading, trailing and commented separators",
			yaml: "---\n" + componentYAML + "--- # next\n" + subscriptionYAML + "---\n",
			want: Set{Components: []Component{orderpubsub}, Subscriptions: []Subscription{orders}},
		},
		{
			name: "CRLF separator",
			yaml: componentYAML + "---\r\n" + subscriptionYAML,
			want: Set{Components: []Component{orderpubsub}, Subscriptions: []Subscription{orders}},
		},
		{
			name: "comments-only and empty documents",
			yaml: "# header\n---\n\n---\n  # indented comment\n---\n" + componentYAML + "---\n# trailer\n",
			want: Set{Components: []Component{orderpubsub}},
		},
		{
			name: "v1alpha1 route becomes the default route",
			yaml: `apiVersion: dapr.io/v1alpha1
kind: Subscription
metadata:
  name: order-processor-orders
spec:
  pubsubname: orderpubsub
  topic: orders
  route: /order-processor
  deadLetterTopic: orders-deadletter
`,
			want: Set{Subscriptions: []Subscription{orders}},
		},
		{
			name: "v2alpha1 rules, metadata, bulk and scopes",
			yaml: `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: s
spec:
  pubsubname: ps
  topic: t
  metadata:
    rawPayload: "true"
  routes:
    rules:
      - match: event.type == "a"
        path: /fn-a
    default: /fn-b
  bulkSubscribe:
    enabled: true
    maxMessagesCount: 10
scopes: [app]
`,
			want: Set{Subscriptions: []Subscription{{
				Name: "s", PubsubName: "ps", Topic: "t",
				Metadata:      map[string]string{"rawPayload": "true"},
				Routes:        Routes{Rules: []Rule{{Match: `event.type == "a"`, Path: "/fn-a"}}, Default: "/fn-b"},
				BulkSubscribe: BulkSubscribe{Enabled: true, MaxMessagesCount: 10},
				Scopes:        []string{"app"}, File: "f.yaml",
			}}},
		},
		{
			name: "metadata values: envRef, numbers, booleans, empty",
			yaml: `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: redis
spec:
  type: state.redis
  version: v1
  ignoreErrors: true
  initTimeout: 5s
  metadata:
    - name: host
      envRef: REDIS_HOST
    - name: maxRetries
      value: 3
    - name: ratio
      value: 0.5
    - name: enableTLS
      value: false
    - name: password
      value: ""
    - name: unset
scopes: [checkout]
`,
			env: map[string]string{"REDIS_HOST": "localhost:6379"},
			want: Set{Components: []Component{{
				Name: "redis", Type: "state.redis", Version: "v1",
				Metadata: map[string]string{
					"host": "localhost:6379", "maxRetries": "3", "ratio": "0.5",
					"enableTLS": "false", "password": "", "unset": "",
				},
				Scopes: []string{"checkout"}, IgnoreErrors: true, InitTimeout: "5s", File: "f.yaml",
			}}},
		},
		{
			name: "other kinds are skipped",
			yaml: `apiVersion: dapr.io/v1alpha1
kind: Configuration
metadata:
  name: tracing
spec:
  tracing: {samplingRate: "1"}
---
apiVersion: dapr.io/v1alpha1
kind: HTTPEndpoint
metadata:
  name: api
`,
			want: Set{Skipped: []string{"Configuration tracing (dapr.io/v1alpha1)", "HTTPEndpoint api (dapr.io/v1alpha1)"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse("f.yaml", []byte(tt.yaml), env(tt.env))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v, want %+v", *got, tt.want)
			}
		})
	}
}

func TestParseNilEnv(t *testing.T) {
	const yaml = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: c}
spec:
  type: pubsub.redis
  version: v1
  metadata: [{name: host, envRef: HOST}]
`
	_, err := Parse("f.yaml", []byte(yaml), nil)
	if err == nil {
		t.Fatal("got nil error, want envRef error with a nil LookupEnv")
	}
}
