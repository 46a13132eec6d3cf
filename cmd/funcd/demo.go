package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// demoOrders is how many orders the demo sends, as the original publisher did.
const demoOrders = 19

// runDemo replays the original checkout loop: orders 1..19 for "Customer N",
// amount N*10.0, status Pending, each sent to checkout as a CloudEvent.
func runDemo(ctx context.Context, gateway, token string, w io.Writer) error {
	client := &http.Client{Timeout: 10 * time.Second}
	accepted := 0
	for i := 1; i <= demoOrders; i++ {
		body := fmt.Sprintf(`{"orderId":%d,"customerName":"Customer %d","amount":%d.0,"status":"Pending"}`, i, i, i*10)
		status, msg, err := sendEvent(ctx, client, gateway+"/checkout", eventSpec{
			id: "demo-order-" + strconv.Itoa(i), source: "/funcd/demo", typ: "com.example.order",
			contentType: "application/json", data: body, token: token,
		})
		switch {
		case err != nil:
			return fmt.Errorf("demo order %d: %w", i, err)
		case status != http.StatusOK:
			fmt.Fprintf(w, "demo: order %d refused by checkout: %d %s\n", i, status, strings.TrimSpace(msg))
		default:
			accepted++
		}
		if err := pause(ctx, 50*time.Millisecond); err != nil {
			return nil
		}
	}
	fmt.Fprintf(w, "demo: checkout accepted %d of %d orders; order-processor logs each one as it arrives\n", accepted, demoOrders)
	return nil
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
