package platform

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

const (
	memoryPubSub = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: orderpubsub}\nspec: {type: pubsub.in-memory, version: v1}\n"
	ordersSub    = "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata: {name: orders}\n" +
		"spec: {pubsubname: orderpubsub, topic: orders, routes: {default: /order-processor}}\n"
)

// project writes a project with checkout and order-processor functions (not
// built: every case fails before the builds) and the given resources.
func project(t *testing.T, resources map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"functions/checkout/func.yaml":        "specVersion: 0.36.0\nname: checkout\nruntime: go\ninvoke: cloudevent\n",
		"functions/order-processor/func.yaml": "specVersion: 0.36.0\nname: order-processor\nruntime: go\ninvoke: cloudevent\n",
	}
	for name, content := range resources {
		files["components/"+name] = content
	}
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	if err := os.CopyFS(dir, fsys); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestStartRefusesBadConfiguration checks each configuration error stops
// Start, before any build, with a message naming the file and the cause.
func TestStartRefusesBadConfiguration(t *testing.T) {
	tests := []struct {
		name      string
		resources map[string]string
		wantErr   []string
	}{
		{name: "malformed YAML names file and field",
			resources: map[string]string{"pubsub.yaml": strings.Replace(memoryPubSub, "version: v1", "version: v1, tpye: x", 1)},
			wantErr:   []string{"pubsub.yaml", `unknown field "tpye"`}},
		{name: "unknown pubsub type",
			resources: map[string]string{"pubsub.yaml": strings.Replace(memoryPubSub, "pubsub.in-memory", "pubsub.nope", 1), "sub.yaml": ordersSub},
			wantErr:   []string{"pubsub.yaml", "orderpubsub", `unsupported pub/sub component type "pubsub.nope"`}},
		{name: "subscription to a missing component",
			resources: map[string]string{"sub.yaml": ordersSub},
			wantErr:   []string{"sub.yaml", `subscription "orders"`, `pub/sub component "orderpubsub" is not defined`}},
		{name: "two subscriptions for the same route",
			resources: map[string]string{"pubsub.yaml": memoryPubSub, "a.yaml": ordersSub,
				"b.yaml": strings.Replace(ordersSub, "name: orders", "name: again", 1)},
			wantErr: []string{"a.yaml", "b.yaml", "orderpubsub/orders -> order-processor"}},
		{name: "route to a missing function",
			resources: map[string]string{"pubsub.yaml": memoryPubSub, "sub.yaml": strings.Replace(ordersSub, "/order-processor", "/shipping", 1)},
			wantErr:   []string{"sub.yaml", "subscription orders", `no function named "shipping"`}},
		{name: "input binding to a missing function",
			resources: map[string]string{"cron.yaml": cronYAML("/billing", "@every 1s")},
			wantErr:   []string{"cron.yaml", "input binding tick", `no function named "billing"`}},
		{name: "bad routing rule",
			resources: map[string]string{"pubsub.yaml": memoryPubSub, "sub.yaml": strings.Replace(ordersSub,
				"routes: {default: /order-processor}", `routes: {rules: [{match: "event.type ==", path: /order-processor}]}`, 1)},
			wantErr: []string{"sub.yaml", "subscription orders", "spec.routes.rules[0].match"}},
		{name: "bad cron schedule",
			resources: map[string]string{"cron.yaml": cronYAML("/checkout", "every now and then")},
			wantErr:   []string{"cron.yaml", "input binding tick", "schedule"}},
		{name: "resiliency naming an undefined policy",
			resources: map[string]string{"pubsub.yaml": memoryPubSub, "r.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\n" +
				"spec:\n  targets:\n    components:\n      orderpubsub: {inbound: {retry: nope}}\n"},
			wantErr: []string{"r.yaml", `retry policy "nope" is not defined`}},
		{name: "bad circuit breaker trip",
			resources: map[string]string{"pubsub.yaml": memoryPubSub, "sub.yaml": ordersSub,
				"r.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: r}\nspec:\n  policies:\n" +
					"    circuitBreakers:\n      cb: {trip: consecutiveFailure > 5}\n  targets:\n    components:\n      orderpubsub: {inbound: {circuitBreaker: cb}}\n"},
			wantErr: []string{"r.yaml", "subscription orders", `circuit breaker policy "cb"`, "trip"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, tt.resources)
			began := time.Now()
			p, err := Start(t.Context(), Config{Dir: dir, GatewayAddr: "127.0.0.1:0", CacheDir: t.TempDir(), Environ: []string{}})
			if err == nil {
				_ = p.Stop(t.Context())
				t.Fatal("Start = nil, want an error")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("got error %q, want it to contain %q", err, want)
				}
			}
			if took := time.Since(began); took > 10*time.Second {
				t.Errorf("Start took %v to refuse, want no build first", took)
			}
		})
	}
}

func cronYAML(route, schedule string) string {
	return "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: tick}\nspec:\n  type: bindings.cron\n  version: v1\n" +
		"  metadata:\n    - {name: schedule, value: \"" + schedule + "\"}\n    - {name: route, value: " + route + "}\n"
}
