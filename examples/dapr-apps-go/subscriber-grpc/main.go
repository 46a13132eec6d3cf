// Command subscriber-grpc is the seed's order-processor on the Dapr Go SDK's
// service/grpc: Dapr calls ListTopicSubscriptions, then OnTopicEvent for
// each order.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"

	"github.com/dapr/go-sdk/service/common"
	daprd "github.com/dapr/go-sdk/service/grpc"
)

type order struct {
	OrderID      int     `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

func main() {
	s, err := daprd.NewService("127.0.0.1:" + os.Getenv("APP_PORT"))
	if err != nil {
		log.Fatalf("listen: %v", err)
	}
	sub := &common.Subscription{PubsubName: "orderpubsub", Topic: "orders", Route: "/orders"}
	if err := s.AddTopicEventHandler(sub, handle); err != nil {
		log.Fatalf("subscribe: %v", err)
	}
	if err := s.Start(); err != nil {
		log.Fatalf("serve: %v", err)
	}
}

func handle(_ context.Context, e *common.TopicEvent) (retry bool, err error) {
	var o order
	if err := json.Unmarshal(e.RawData, &o); err != nil {
		return false, fmt.Errorf("not an order: %w", err)
	}
	fmt.Printf("Subscriber received: orderId=%d, customerName=%s, amount=%.1f, status=%s\n", o.OrderID, o.CustomerName, o.Amount, o.Status)
	return false, nil
}
