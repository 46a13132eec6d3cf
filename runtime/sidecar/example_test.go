package sidecar_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/sidecar"
)

// printer is a publisher that prints what it would publish to the
// component called name.
type printer struct{ name string }

func (p printer) Publish(_ context.Context, msg *pubsub.Message) error {
	var ce struct {
		Type, Source, DataContentType string
		Data                          json.RawMessage
	}
	if err := json.Unmarshal(msg.Data, &ce); err != nil {
		return err
	}
	fmt.Println(p.name, msg.Topic, ce.Type, ce.Source, ce.DataContentType, string(ce.Data))
	return nil
}

type components map[string]pubsub.Publisher

func (c components) PubSub(name string) (pubsub.Publisher, bool) {
	p, ok := c[name]
	return p, ok
}

// A function publishes with curl (or the Dapr SDK) to the local publish API.
func Example() {
	sc, err := sidecar.New("checkout", components{"orderpubsub": printer{name: "orderpubsub"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0") // gRPC would get its own listener
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Serve(ctx, nil, lis) }()

	resp, err := http.Post("http://"+lis.Addr().String()+"/v1.0/publish/orderpubsub/orders",
		"application/json", strings.NewReader(`{"orderId":1}`))
	if err != nil {
		fmt.Println(err)
	} else {
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	cancel()
	fmt.Println(<-done)
	// Output:
	// orderpubsub orders com.dapr.event.sent checkout application/json {"orderId":1}
	// 204
	// <nil>
}
