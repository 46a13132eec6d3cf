package sidecar

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dapr/components-contrib/pubsub"
	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	dapr "github.com/dapr/go-sdk/client"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	port "github.com/funcd/funcd/runtime/pubsub"
)

const (
	testAppID  = "checkout"
	testPubSub = "orderpubsub"
	testTopic  = "orders"
)

// fakePublisher records what it is asked to publish.
type fakePublisher struct {
	mu    sync.Mutex
	reqs  []*port.Message
	err   error
	feats []pubsub.Feature
}

func (f *fakePublisher) Publish(_ context.Context, req *port.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, req)
	return f.err
}

func (f *fakePublisher) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakePublisher) requests() []*port.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*port.Message(nil), f.reqs...)
}

func (f *fakePublisher) last(t *testing.T) *port.Message {
	t.Helper()
	reqs := f.requests()
	if len(reqs) == 0 {
		t.Fatal("publisher got no request")
	}
	return reqs[len(reqs)-1]
}

// featurePublisher also reports component features.
type featurePublisher struct {
	*fakePublisher
}

func (f featurePublisher) Features() []pubsub.Feature { return f.feats }

// nopPublisher accepts everything (benchmarks).
type nopPublisher struct{}

func (nopPublisher) Publish(context.Context, *port.Message) error { return nil }

// fakeComponents is a fixed set of named publishers.
type fakeComponents map[string]port.Publisher

func (c fakeComponents) PubSub(name string) (port.Publisher, bool) {
	p, ok := c[name]
	return p, ok
}

func (c fakeComponents) ListPubSubs() []ComponentInfo {
	out := make([]ComponentInfo, 0, len(c))
	for name := range c {
		out = append(out, ComponentInfo{Name: name, Type: "pubsub.in-memory", Version: "v1"})
	}
	return out
}

// testEnv is a Sidecar serving both APIs on loopback port-0 listeners.
type testEnv struct {
	sc       *Sidecar
	pub      *fakePublisher
	grpcAddr string
	httpURL  string
}

func startEnv(t testing.TB, opts ...Option) *testEnv {
	t.Helper()
	pub := &fakePublisher{}
	return startWith(t, fakeComponents{testPubSub: pub}, pub, opts...)
}

func startWith(t testing.TB, comps Components, pub *fakePublisher, opts ...Option) *testEnv {
	t.Helper()
	sc, err := New(testAppID, comps, opts...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	gl, hl := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, gl, hl) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testEnv{sc: sc, pub: pub, grpcAddr: gl.Addr().String(), httpURL: "http://" + hl.Addr().String()}
}

func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	return l
}

// sdkClient is the real Dapr Go SDK client on a connection to the env's gRPC
// API (NewClientWithConnection: same client, no stdout log line).
func (e *testEnv) sdkClient(t testing.TB) dapr.Client {
	t.Helper()
	return dapr.NewClientWithConnection(e.conn(t))
}

// dialedSDKClient is the SDK client as functions create it, by address; only
// that one honours WithAuthToken.
func (e *testEnv) dialedSDKClient(t testing.TB) dapr.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := dapr.NewClientWithAddressContext(ctx, e.grpcAddr)
	if err != nil {
		t.Fatalf("dapr client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// protoClient is a plain generated client, for requests the SDK refuses to
// send and for exact status assertions.
func (e *testEnv) protoClient(t testing.TB) runtimev1pb.DaprClient {
	t.Helper()
	return runtimev1pb.NewDaprClient(e.conn(t))
}

func (e *testEnv) conn(t testing.TB) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(e.grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc client: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

func (e *testEnv) post(t testing.TB, path, contentType, body string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.httpURL+path, strings.NewReader(body))
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return resp
}

// apiError is daprd's HTTP error body.
type apiError struct {
	ErrorCode string `json:"errorCode"`
	Message   string `json:"message"`
}

func decodeAPIError(t testing.TB, resp *http.Response) apiError {
	t.Helper()
	defer resp.Body.Close()
	var e apiError
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("decode error body: %v", err)
	}
	return e
}
