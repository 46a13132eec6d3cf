package e2e

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// startRedisProc runs redis-server (apt package redis-server) on a free
// port without persistence and returns the process, for the benchmarks that
// measure it, and its address; other tests use pubsubtest.StartRedis.
func startRedisProc(t testing.TB) (*proc, string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testing.Short() {
			t.Skip("-short: redis-server is not installed")
		}
		t.Fatal("redis-server is not installed: apt-get install -y redis-server (.ci/run does it)")
	}
	port := freePort(t)
	p := startProc(t, "redis", t.TempDir(), nil, bin,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	p.waitLine(t, regexp.MustCompile(`Ready to accept connections`), 20*time.Second)
	return p, addr(port)
}

// daprd is one running daprd sidecar.
type daprd struct {
	*proc
	appID    string
	grpcPort int
	grpcAddr string
	httpURL  string
}

// daprdOptions are the per-sidecar choices.
type daprdOptions struct {
	appID     string
	resources string
	appPort   int      // 0: no app channel (publish-only, or streaming subscriptions)
	health    string   // the app's health check path (default /health/readiness, func-go's)
	grpcPort  int      // 0: a free port
	env       []string // e.g. DAPR_API_TOKEN=...
}

// startDaprd runs the real daprd self-hosted on free ports and waits until
// its outbound side (API and components) is ready.
func startDaprd(t testing.TB, o daprdOptions) *daprd {
	t.Helper()
	bin := daprdTool.need(t)
	grpcPort, httpPort := o.grpcPort, freePort(t)
	if grpcPort == 0 {
		grpcPort = freePort(t)
	}
	args := []string{bin,
		"--app-id", o.appID, "--resources-path", o.resources,
		"--dapr-grpc-port", strconv.Itoa(grpcPort), "--dapr-http-port", strconv.Itoa(httpPort),
		"--dapr-internal-grpc-port", strconv.Itoa(freePort(t)),
		"--metrics-port", strconv.Itoa(freePort(t)), "--dapr-listen-addresses", "127.0.0.1",
		"--log-level", "info",
	}
	if o.appPort != 0 {
		args = append(args, "--app-port", strconv.Itoa(o.appPort), "--app-channel-address", "127.0.0.1",
			"--enable-app-health-check", "--app-health-check-path", cmp.Or(o.health, "/health/readiness"),
			"--app-health-probe-interval", "1")
	}
	d := &daprd{
		proc:     startProc(t, "daprd "+o.appID, t.TempDir(), o.env, args...),
		appID:    o.appID,
		grpcPort: grpcPort,
		grpcAddr: addr(grpcPort),
		httpURL:  "http://" + addr(httpPort),
	}
	waitHTTP(t, d.proc, d.httpURL+"/v1.0/healthz/outbound", 204, 60*time.Second)
	return d
}

// writeResources writes YAML documents into a new folder, one file each.
func writeResources(t testing.TB, docs map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, doc := range docs {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// redisComponent is the seed's orderpubsub component on Redis Streams,
// with short redelivery so unacknowledged messages come back in seconds.
func redisComponent(name, redisAddr string) string {
	return redisComponentWith(name, redisAddr, 2*time.Second, time.Second)
}

// redisComponentWith is a pubsub.redis Component named name on the
// redis-server at redisAddr. A message read but never acknowledged stays in
// the consumer group's pending list; the component claims it again once it
// has been pending processingTimeout, checking every redeliverInterval.
// Zero leaves a value at the component's default (60s and 15s), as the
// seed ships it. The values are written in milliseconds: components-contrib
// v1.16 decodes redeliverInterval only as a number (a "1s" is ignored: the
// default stays).
func redisComponentWith(name, redisAddr string, processingTimeout, redeliverInterval time.Duration) string {
	c := fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: pubsub.redis
  version: v1
  metadata:
  - name: redisHost
    value: %s
  - name: redisPassword
    value: ""
`, name, redisAddr)
	for _, m := range []struct {
		name string
		d    time.Duration
	}{{"processingTimeout", processingTimeout}, {"redeliverInterval", redeliverInterval}} {
		if m.d > 0 {
			c += fmt.Sprintf("  - name: %s\n    value: \"%d\"\n", m.name, m.d.Milliseconds())
		}
	}
	return c
}

// writeWithSubscription writes files (name to content) into dir, with the
// project's Subscription as subscription.yaml.
func writeWithSubscription(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	sub, err := os.ReadFile(filepath.Join("..", "components", "subscription.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	files = maps.Clone(files)
	files["subscription.yaml"] = string(sub)
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// subscription routes pubsub/topic to a function, dead-lettering to dlq.
func subscription(name, pubsub, topic, function, dlq string) string {
	s := fmt.Sprintf(`apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata:
  name: %s
spec:
  pubsubname: %s
  topic: %s
  routes:
    default: /%s
`, name, pubsub, topic, function)
	if dlq != "" {
		s += "  deadLetterTopic: " + dlq + "\n"
	}
	return s
}
