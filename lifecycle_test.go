package function

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	daprc "github.com/dapr/go-sdk/client"
)

// TestStartRefusesBadResources: a configuration the binding cannot run ends
// Start with an error before it reaches for the sidecar, rather than being
// retried as "not ready yet" forever.
func TestStartRefusesBadResources(t *testing.T) {
	const redis = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orderpubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: localhost:6379
    - name: processingTimeout
      value: "3000"
`
	const sub = `apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: orders
spec:
  pubsubname: orderpubsub
  topic: orders
  routes:
    default: /order-processor
`
	const matching = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: r
spec:
  policies:
    timeouts:
      t: 500ms
    retries:
      x:
        policy: constant
        duration: 100ms
        maxRetries: 2
        matching:
          httpStatusCodes: 500-599
  targets:
    components:
      orderpubsub:
        inbound:
          timeout: t
          retry: x
`
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{name: "budget beyond processingTimeout", files: map[string]string{"pubsub.yaml": redis, "subscription.yaml": sub},
			want: []string{"subscription orders", "component orderpubsub", "3s (processingTimeout)", "6 attempts × 30s timeout", "3m3.72s"}},
		{name: "retry matching", files: map[string]string{"pubsub.yaml": redis, "subscription.yaml": sub, "resiliency.yaml": matching},
			want: []string{"matching is not supported"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("RESOURCES_PATH", dir)
			var dialed atomic.Int32
			f := &Function{dial: func(context.Context, string, string) (daprc.Client, error) {
				dialed.Add(1)
				return nil, errors.New("no sidecar here")
			}}
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			err := f.Start(ctx, map[string]string{})
			if err == nil {
				t.Fatal("Start: got nil, want the configuration error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Start: got %q, want it to contain %q", err, w)
				}
			}
			if n := dialed.Load(); n != 0 {
				t.Errorf("got %d dials, want none: a configuration error needs no sidecar", n)
			}
		})
	}
}
