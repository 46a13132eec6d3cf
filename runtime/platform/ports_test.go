package platform

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	daprc "github.com/dapr/go-sdk/client"
	"github.com/nats-io/nats.go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// embeddedComponent is components/pubsub.yaml as shipped: the embedded
// broker.
const embeddedComponent = `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orderpubsub
spec:
  type: pubsub.jetstream
  version: v1
  metadata:
    - name: concurrency
      value: parallel
`

// TestNoPortTakesAStranger starts the platform with and without
// --api-token and tries every port it lists as a local process without
// credentials would: none publishes or invokes, except the gateway when no
// --api-token is set, which Ports says.
func TestNoPortTakesAStranger(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a real function; run without -short")
	}
	cache := t.TempDir()
	for _, token := range []string{"", "s3cret"} {
		t.Run("api-token="+token, func(t *testing.T) {
			p := startEcho(t, Config{CacheDir: cache, APIToken: token, GRPCAddr: "127.0.0.1:0"})
			seen := map[string]bool{}
			for _, port := range p.Ports() {
				kind, _, _ := strings.Cut(port.What, " of ")
				seen[kind] = true
				t.Run(port.What, func(t *testing.T) {
					if kind == "instances" {
						// Started on demand, and open to local processes
						// as a pod is to its cluster: listed as such.
						if !strings.HasPrefix(port.Protected, "nothing") {
							t.Errorf("instances listed as protected by %q, want nothing", port.Protected)
						}
						return
					}
					open := strangerGetsIn(t, kind, port.Address)
					wantOpen := (kind == "gateway (functions, publish API, status)" || kind == "gateway publish API (gRPC, --grpc-port)") && token == ""
					if open != wantOpen {
						t.Errorf("%s at %s: a caller without credentials got in: %v, want %v (listed as protected by %q)",
							port.What, port.Address, open, wantOpen, port.Protected)
					}
					if wantOpen != strings.HasPrefix(port.Protected, "nothing") {
						t.Errorf("listed as protected by %q, want it to say what it is", port.Protected)
					}
				})
			}
			for _, want := range []string{"gateway (functions, publish API, status)", "gateway publish API (gRPC, --grpc-port)", "publish API (gRPC)", "publish API (HTTP)", "embedded broker (NATS)"} {
				if !seen[want] {
					t.Errorf("Ports: got %v, want a %s", seen, want)
				}
			}
		})
	}
}

// startEcho starts the platform on the embedded broker with the runner's
// echo function, stopped when the test ends.
func startEcho(t *testing.T, cfg Config, funcYAMLExtra ...string) *Platform {
	t.Helper()
	root := t.TempDir()
	for dir, file := range map[string]string{"functions": "", "components": "pubsub.yaml"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if file != "" {
			if err := os.WriteFile(filepath.Join(root, dir, file), []byte(embeddedComponent), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	dir := echoFunction(t, filepath.Join(root, "functions"), "echo", map[string]string{})
	if len(funcYAMLExtra) > 0 {
		f, err := os.OpenFile(filepath.Join(dir, "func.yaml"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.WriteString(strings.Join(funcYAMLExtra, ""))
		if err := errors.Join(err, f.Close()); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Dir, cfg.GatewayAddr = root, "127.0.0.1:0"
	cfg.Environ = []string{"RUNNER_TEST_HOST_VALUE=x", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	cfg.Output = io.Discard
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = t.TempDir()
	}
	p, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop(context.WithoutCancel(t.Context())) })
	return p
}

// TestFuncYAMLUnknownFields: a func.yaml field func does not know is
// warned about at start, naming the file and the field.
func TestFuncYAMLUnknownFields(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a real function; run without -short")
	}
	var logs strings.Builder
	var mu sync.Mutex
	log := slog.New(slog.NewTextHandler(writerFunc(func(b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(b)
	}), nil))
	startEcho(t, Config{Logger: log}, "buidl:\n  builder: host\n")
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"level=WARN", "fields func does not know", "function=echo", "func.yaml", "fields=[buidl]"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs: want %q in them:\n%s", want, logs.String())
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// TestTopicsBound: publishing through the gateway makes topics up to
// --max-topics; one more gets 403 saying so; the topics are listed with
// what their streams keep.
func TestTopicsBound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a real function; run without -short")
	}
	p := startEcho(t, Config{MaxTopics: 2})
	for _, tt := range []struct {
		topic  string
		status int
		reason string
	}{{"t1", 204, ""}, {"t2", 204, ""}, {"t3", 403, "topic limit reached"}, {"t1", 204, ""}} {
		resp, err := http.Post(p.GatewayURL()+"/v1.0/publish/orderpubsub/"+tt.topic, "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.reason) || tt.status == 403 && !strings.Contains(string(b), "at most 2") {
			t.Errorf("publish to %s: got %d %s, want %d %q", tt.topic, resp.StatusCode, b, tt.status, tt.reason)
		}
	}
	topics, max := p.Topics()
	if len(topics) != 2 || max != 2 || topics[0].Topic != "t1" || topics[0].Messages != 2 || topics[0].MaxAge != "168h0m0s" {
		t.Errorf("Topics: got %+v of %d, want t1 (2 messages, kept 168h) and t2 of 2", topics, max)
	}
}

// strangerGetsIn tries to publish (or invoke) on addr without credentials
// and reports whether it worked.
func strangerGetsIn(t *testing.T, kind, addr string) bool {
	t.Helper()
	post := func(url, contentType, body string, header http.Header) bool {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
		req.Header = header
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		t.Logf("POST %s: %d %s", url, resp.StatusCode, strings.TrimSpace(string(b)))
		return resp.StatusCode < 300
	}
	switch kind {
	case "gateway (functions, publish API, status)":
		published := post("http://"+addr+"/v1.0/publish/orderpubsub/orders", "application/json", `{"orderId":1}`, http.Header{})
		invoked := post("http://"+addr+"/echo", "application/json", `{}`, http.Header{
			"Ce-Id": {"1"}, "Ce-Specversion": {"1.0"}, "Ce-Source": {"/stranger"}, "Ce-Type": {"test.ping"}})
		if published != invoked {
			t.Errorf("publish got in: %v, invoke: %v, want the same answer", published, invoked)
		}
		return published || invoked
	case "publish API (HTTP)":
		return post("http://"+addr+"/v1.0/publish/orderpubsub/orders", "application/json", `{"orderId":1}`, http.Header{})
	case "publish API (gRPC)", "gateway publish API (gRPC, --grpc-port)":
		client, err := daprc.NewClientWithAddressContext(t.Context(), addr)
		if err != nil {
			t.Fatal(err)
		}
		defer client.Close()
		err = client.PublishEvent(t.Context(), "orderpubsub", "orders", []byte(`{"orderId":1}`))
		if err != nil && status.Code(errors.Unwrap(err)) != codes.Unauthenticated && status.Code(err) != codes.Unauthenticated {
			t.Errorf("gRPC publish: got %v, want Unauthenticated", err)
		}
		return err == nil
	case "embedded broker (NATS)":
		nc, err := nats.Connect("nats://"+addr, nats.NoReconnect())
		if err != nil {
			if !errors.Is(err, nats.ErrAuthorization) {
				t.Errorf("NATS connect: got %v, want an authorization error", err)
			}
			return false
		}
		defer nc.Close()
		return nc.Publish("orders", []byte(`{"orderId":1}`)) == nil && nc.Flush() == nil
	}
	t.Fatalf("port kind %q: add how a stranger would try it", kind)
	return false
}
