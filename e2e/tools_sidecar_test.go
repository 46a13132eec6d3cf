package e2e

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/sidecar"
	"github.com/funcd/funcd/runtime/sidecar/sidecartest"
)

// recorder is a pubsub.Publisher that keeps what it is asked to publish.
type recorder struct {
	mu   sync.Mutex
	reqs []*pubsub.Message
}

func (r *recorder) Publish(_ context.Context, req *pubsub.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
	return nil
}

func (r *recorder) requests() []*pubsub.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*pubsub.Message(nil), r.reqs...)
}

func (r *recorder) PubSub(name string) (pubsub.Publisher, bool) {
	return r, name == "orderpubsub"
}

// localSidecar is our publish API (runtime/sidecar) serving in-process.
type localSidecar struct {
	rec      *recorder
	grpcPort int
	grpcAddr string
	httpURL  string
}

// startSidecar serves our Dapr-compatible publish API for appID on free
// loopback ports, recording publishes to the orderpubsub component.
func startSidecar(t *testing.T, appID string, opts ...sidecar.Option) *localSidecar {
	t.Helper()
	return startSidecarAt(t, appID, "127.0.0.1:0", opts...)
}

// startSidecarAt is startSidecar with the gRPC API on grpcAddr.
func startSidecarAt(t *testing.T, appID, grpcAddr string, opts ...sidecar.Option) *localSidecar {
	t.Helper()
	rec := &recorder{}
	sc, err := sidecar.New(appID, rec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	gl, err := net.Listen("tcp", grpcAddr)
	if err != nil {
		t.Fatalf("serve the publish API on %s: %v", grpcAddr, err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sidecartest.Serve(t, sc, gl, hl)
	return &localSidecar{rec: rec, grpcPort: gl.Addr().(*net.TCPAddr).Port, grpcAddr: gl.Addr().String(),
		httpURL: "http://" + hl.Addr().String()}
}
