// Command seedsub is the seed architecture's subscriber for the product
// benchmark (make bench): the Go order-processor of Dapr's pub/sub
// quickstart, on the Dapr Go SDK's HTTP service behind its own daprd. It
// logs each order on stdout in the same words as functions/order-processor.
//
//	seedsub -addr 127.0.0.1:6002
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/dapr/go-sdk/service/common"
	daprd "github.com/dapr/go-sdk/service/http"
)

// order is the order event of functions/order-processor.
type order struct {
	OrderID      int     `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:6002", "address the app listens on (daprd's --app-port)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, addr string) error {
	s := daprd.NewService(addr)
	sub := &common.Subscription{PubsubName: "orderpubsub", Topic: "orders", Route: "/orders"}
	if err := s.AddTopicEventHandler(sub, received); err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- s.Start() }()
	select {
	case err := <-errc:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return s.GracefulStop()
	}
}

// received logs the order, as order-processor does; data that is not an
// order is dropped.
func received(_ context.Context, e *common.TopicEvent) (retry bool, err error) {
	var o order
	if err := json.Unmarshal(e.RawData, &o); err != nil {
		return false, fmt.Errorf("not an order: %w", err)
	}
	fmt.Printf("Subscriber received: orderId=%d, customerName=%s, amount=%.1f, status=%s\n",
		o.OrderID, o.CustomerName, o.Amount, o.Status)
	return false, nil
}
