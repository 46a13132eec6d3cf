package subscriptions

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
)

// TestRedeliveryFit: New and Check refuse a subscription whose deliveries
// can outlast the component's redelivery timeout, naming the component, the
// subscription, the policy and both durations, and accept one that fits.
func TestRedeliveryFit(t *testing.T) {
	sub := resources.Subscription{Name: "orders-sub", PubsubName: "orderpubsub", Topic: "orders",
		Routes: resources.Routes{Default: "/order-processor"}, File: "subscription.yaml"}
	comp := func(typ string, meta map[string]string) []resources.Component {
		return []resources.Component{{Name: "orderpubsub", Type: typ, Version: "v1", Metadata: meta, File: "pubsub.yaml"}}
	}
	resiliency := func(timeout time.Duration, retries int) []resources.Resiliency {
		return []resources.Resiliency{{Name: "r", File: "resiliency.yaml",
			Timeouts:   map[string]time.Duration{"t": timeout},
			Retries:    map[string]resources.Retry{"x": {Policy: resources.RetryExponential, MaxInterval: 2 * time.Second, MaxRetries: retries}},
			Components: map[string]resources.ComponentPolicies{"orderpubsub": {Inbound: resources.PolicyNames{Timeout: "t", Retry: "x"}}}}}
	}
	bulk := sub
	bulk.BulkSubscribe = resources.BulkSubscribe{Enabled: true, MaxAwaitDurationMs: 25000}
	tests := []struct {
		name        string
		sub         resources.Subscription
		comps       []resources.Component
		res         []resources.Resiliency
		retry       delivery.RetryPolicy
		timeout     time.Duration
		batch       bool
		alive       bool          // the adapter keeps messages alive while delivering
		wantErr     []string      // empty: accepted
		absent      []string      // not in the error
		wantTimeout time.Duration // the per-attempt timeout New settles on, when checked
	}{
		{name: "redis: resiliency too long", comps: comp("pubsub.redis", map[string]string{"processingTimeout": "60s"}), res: resiliency(30*time.Second, 5),
			wantErr: []string{"subscription.yaml: subscription orders-sub", "deliveries to order-processor", "3m9.094s", "6 attempts × 30s timeout",
				"resiliency.yaml: targets.components.orderpubsub.inbound", "component orderpubsub (pubsub.redis, pubsub.yaml)", "1m0s (processingTimeout)", "raise processingTimeout"}},
		{name: "redis: resiliency fits", comps: comp("pubsub.redis", map[string]string{"processingTimeout": "60s"}), res: resiliency(10*time.Second, 3)},
		{name: "redis default processingTimeout", comps: comp("pubsub.redis", nil), res: resiliency(30*time.Second, 1),
			wantErr: []string{"1m0s (processingTimeout (unset: the default))"}},
		{name: "redis redelivery off", comps: comp("pubsub.redis", map[string]string{"redeliverInterval": "0"}), res: resiliency(30*time.Second, 5)},
		{name: "jetstream: default timeout lowered to fit the default ack wait", comps: comp("pubsub.jetstream", nil), wantTimeout: 4300 * time.Millisecond},
		{name: "redis: default timeout lowered to fit", comps: comp("pubsub.redis", nil), wantTimeout: 9300 * time.Millisecond},
		{name: "kafka: default timeout lowered to fit", comps: comp("pubsub.kafka", nil), wantTimeout: 9300 * time.Millisecond},
		{name: "in-memory: default timeout kept", comps: comp("pubsub.in-memory", nil), wantTimeout: delivery.DefaultTimeout},
		{name: "kept alive: default timeout kept, not checked", comps: comp("pubsub.jetstream", map[string]string{"ackWait": "3s"}), alive: true,
			wantTimeout: delivery.DefaultTimeout},
		{name: "kept alive: a long resiliency is not checked", comps: comp("pubsub.jetstream", map[string]string{"ackWait": "3s"}), alive: true,
			res: resiliency(time.Hour, 5), wantTimeout: time.Hour},
		{name: "given timeout is not lowered", comps: comp("pubsub.jetstream", nil), timeout: 30 * time.Second,
			wantErr: []string{"3m3.72s", "6 attempts × 30s timeout"}},
		{name: "jetstream: short ackWait", comps: comp("pubsub.jetstream", map[string]string{"ackWait": "3s"}),
			wantErr: []string{"3m3.72s", "the binding's default policy", "3s (ackWait)", "raise ackWait"}},
		{name: "jetstream: configured policy fits a short ackWait", comps: comp("pubsub.jetstream", map[string]string{"ackWait": "3s"}),
			retry: delivery.RetryPolicy{MaxRetries: 2, Initial: 100 * time.Millisecond, Max: 100 * time.Millisecond, Multiplier: 1}, timeout: 500 * time.Millisecond},
		{name: "kafka: fixed rebalance timeout", comps: comp("pubsub.kafka", nil), res: resiliency(15*time.Second, 3),
			wantErr: []string{"1m0s (the consumer group's rebalance timeout", "shorten the timeout or the retries"}, absent: []string{"raise"}},
		{name: "kafka: fits", comps: comp("pubsub.kafka", nil), res: resiliency(10*time.Second, 3)},
		{name: "in-memory never redelivers", comps: comp("pubsub.in-memory", nil), res: resiliency(time.Hour, 5)},
		{name: "unmodelled type is not checked", comps: comp("pubsub.rabbitmq", nil), res: resiliency(time.Hour, 5)},
		{name: "component not given is not checked", res: resiliency(time.Hour, 5)},
		{name: "bad processingTimeout", comps: comp("pubsub.redis", map[string]string{"processingTimeout": "later"}),
			wantErr: []string{"component orderpubsub (pubsub.yaml)", "processingTimeout"}},
		{name: "bulk wait counts for batch takers", sub: bulk, batch: true, comps: comp("pubsub.jetstream", nil),
			wantErr: []string{"25s collecting a batch"}},
		{name: "bulk wait does not count for single events", sub: bulk, comps: comp("pubsub.jetstream", nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sub
			if tt.sub.Name != "" {
				s = tt.sub
			}
			cfg := Config{Subscriptions: []resources.Subscription{s}, Components: tt.comps, Resiliency: tt.res,
				Retry: tt.retry, Timeout: tt.timeout, Batch: func(string) bool { return tt.batch },
				KeepsAlive: func(resources.Component) bool { return tt.alive }}
			check := Check(cfg)
			cfg.PubSubs, cfg.Target = registry{"orderpubsub": &fakePubSub{}}, staticTarget{}
			b, err := New(cfg)
			if tt.wantTimeout != 0 && err == nil {
				if got := b.subs[0].policies["order-processor"].Timeout; got != tt.wantTimeout {
					t.Errorf("per-attempt timeout: got %s, want %s", got, tt.wantTimeout)
				}
			}
			for name, err := range map[string]error{"Check": check, "New": err} {
				if len(tt.wantErr) == 0 {
					if err != nil {
						t.Errorf("%s: got %v, want no error", name, err)
					}
					continue
				}
				if err == nil {
					t.Fatalf("%s: got no error, want one", name)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%s: got %q, want it to contain %q", name, err, want)
					}
				}
				for _, not := range tt.absent {
					if strings.Contains(err.Error(), not) {
						t.Errorf("%s: got %q, want no %q in it", name, err, not)
					}
				}
			}
		})
	}
}

// TestShippedResourcesFit: the resources the project ships pass the check:
// components/ as shipped, with each broker swap and with the example
// Resiliency enabled; deploy/dapr as the binding's ConfigMap holds it, with
// the Kafka swap; and the KEDA variant's Component with the same
// Subscription and Resiliency (its daprd retries by the same arithmetic).
func TestShippedResourcesFit(t *testing.T) {
	components := filepath.Join("..", "..", "components")
	deploy := filepath.Join("..", "..", "deploy")
	sets := map[string]map[string]string{}
	for _, pubsub := range []string{"pubsub.yaml", "redis/pubsub.yaml", "kafka/pubsub.yaml"} {
		for _, extra := range []string{"", "examples/resiliency.yaml"} {
			files := map[string]string{"pubsub.yaml": filepath.Join(components, pubsub), "subscription.yaml": filepath.Join(components, "subscription.yaml")}
			if extra != "" {
				files["resiliency.yaml"] = filepath.Join(components, extra)
			}
			sets["components/"+pubsub+"+"+extra] = files
		}
	}
	for name, pubsub := range map[string]string{"deploy/dapr": "dapr/pubsub.yaml", "deploy/dapr with kafka": "dapr/kafka/pubsub.yaml", "deploy/keda": "keda/pubsub.yaml"} {
		sets[name] = map[string]string{"pubsub.yaml": filepath.Join(deploy, pubsub),
			"subscription.yaml": filepath.Join(deploy, "dapr", "subscription.yaml"), "resiliency.yaml": filepath.Join(deploy, "dapr", "resiliency.yaml")}
	}
	for name, files := range sets {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for to, from := range files {
				data, err := os.ReadFile(from)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, to), data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			set, err := resources.Load(dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{Subscriptions: set.Subscriptions, Resiliency: set.Resiliencies, Components: set.Components}
			if strings.HasPrefix(name, "components/") { // run by funcd up, through its embedded adapter
				cfg.KeepsAlive = embedded.KeepsAlive
			}
			if err := Check(cfg); err != nil {
				t.Errorf("got %v, want the shipped resources to fit", err)
			}
		})
	}
}
