// Package sidecartest serves the publish API for tests and benchmarks and
// hands back a Dapr Go SDK client connected to it, as a function gets.
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
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, l, nil) }()
	tb.Cleanup(func() { cancel(); <-done })
	client, err := dapr.NewClientWithAddressContext(ctx, l.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(client.Close)
	return client
}
