// Command publisher is the seed's checkout on the Dapr Go SDK's client: it
// publishes 19 orders to orderpubsub/orders through its sidecar, one a
// second (PUBLISH_INTERVAL, a Go duration, changes the pace).
package main

import (
	"context"
	"encoding/json"
	"log"
	"os"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

type order struct {
	OrderID      int     `json:"orderId"`
	CustomerName string  `json:"customerName"`
	Amount       float64 `json:"amount"`
	Status       string  `json:"status"`
}

func main() {
	interval := time.Second
	if v := os.Getenv("PUBLISH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			log.Fatalf("PUBLISH_INTERVAL: %v", err)
		}
		interval = d
	}
	client, err := dapr.NewClient()
	if err != nil {
		log.Fatalf("dapr client: %v", err)
	}
	defer client.Close()
	log.SetFlags(0)
	for i := 1; i < 20; i++ {
		o := order{OrderID: i, CustomerName: "Customer " + itoa(i), Amount: float64(i) * 10, Status: "Pending"}
		data, _ := json.Marshal(o)
		if err := client.PublishEvent(context.Background(), "orderpubsub", "orders", data,
			dapr.PublishEventWithContentType("application/json")); err != nil {
			log.Printf("Error publishing data: %v", err)
		} else {
			log.Printf("Published data: %s", data)
		}
		time.Sleep(interval)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
