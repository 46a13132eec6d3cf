// Package sidecartest serves the publish API for tests and benchmarks and
// hands back a Dapr Go SDK client connected to it, as a function gets.
// (The sidecar package's own tests keep their harness: they cannot import
// this package, which imports theirs.)
package sidecartest

import (
	"context"
	"net"
	"testing"

	dapr "github.com/dapr/go-sdk/client"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/sidecar"
)

// Client serves the publish API of appID over the components of reg on a
// loopback port until the test ends, and returns an SDK client for it.
func Client(tb testing.TB, appID string, reg *pubsub.Registry) dapr.Client {
	tb.Helper()
	sc, err := sidecar.New(appID, sidecar.FromRegistry(reg))
	if err != nil {
		tb.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	Serve(tb, sc, l, nil)
	client, err := dapr.NewClientWithAddressContext(tb.Context(), l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.Close)
	return client
}

// Serve serves sc's gRPC API on grpcL and its HTTP API on httpL (either may
// be nil) until the test ends, and fails the test if serving fails.
func Serve(tb testing.TB, sc *sidecar.Sidecar, grpcL, httpL net.Listener) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, grpcL, httpL) }()
	tb.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("serve the publish API: %v", err)
		}
	})
}
