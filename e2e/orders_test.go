package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOrderFlow runs the seed scenario: 19 checkouts through the gateway,
// each order logged by order-processor; structured and malformed events too.
func TestOrderFlow(t *testing.T) {
	f := startFuncd(t, "../components", t.TempDir(), nil)
	ctx := t.Context()
	for id := 1; id <= 19; id++ {
		if status, body, err := f.postOrder(ctx, id); err != nil || status != http.StatusOK {
			t.Fatalf("order %d: got %d %q %v, want 200", id, status, body, err)
		}
	}
	structured := `{"specversion":"1.0","id":"s-1","source":"/e2e","type":"com.example.order",` +
		`"datacontenttype":"application/json","data":{"orderId":20,"customerName":"Customer 20","amount":200.0}}`
	if status, body := post(t, f.gateway+"/checkout", "application/cloudevents+json", structured, nil); status != http.StatusOK {
		t.Fatalf("structured order: got %d %q, want 200", status, body)
	}
	batch := `[{"specversion":"1.0","id":"b-21","source":"/e2e","type":"com.example.order","datacontenttype":"application/json","data":{"orderId":21,"customerName":"Customer 21","amount":210.0}},` +
		`{"specversion":"1.0","id":"b-22","source":"/e2e","type":"com.example.order","datacontenttype":"application/json","data":{"orderId":22,"customerName":"Customer 22","amount":220.0}}]`
	status, body := post(t, f.gateway+"/checkout", "application/cloudevents-batch+json", batch, nil)
	if status != http.StatusOK || strings.Count(body, "com.example.order.accepted") != 2 {
		t.Fatalf("batch of 2 orders: got %d %q, want 200 with 2 reply events", status, body)
	}
	waitFor(t, 30*time.Second, "orders 1..22 in order-processor's log", func() bool {
		return len(f.received()) == 22
	})

	bad := map[string]string{"ce-specversion": "1.0", "ce-id": "bad-1", "ce-source": "/e2e", "ce-type": "com.example.order"}
	status, body = post(t, f.gateway+"/checkout", "application/json", `{"customerName":"nobody"}`, bad)
	if status != http.StatusBadRequest || !strings.Contains(body, "orderId") {
		t.Errorf("order without orderId: got %d %q, want 400 naming orderId", status, body)
	}
	status, body = post(t, f.gateway+"/checkout", "application/json", `{"orderId":1}`, nil)
	if status != http.StatusBadRequest || !strings.Contains(body, "not a CloudEvent") {
		t.Errorf("plain JSON without CloudEvent headers: got %d %q, want 400 saying it is not a CloudEvent", status, body)
	}

	pids := f.functionPIDs()
	f.kill(syscall.SIGTERM)
	if f.waitErr != nil {
		t.Errorf("funcd exit after SIGTERM: %v\n%s", f.waitErr, f.output())
	}
	for _, pid := range pids {
		if !processGone(pid) {
			t.Errorf("function process %d still runs after funcd stopped", pid)
		}
	}
}

// TestAcceptedOrdersSurviveKill kills funcd with SIGKILL while orders are
// still being processed, starts it again on the same broker data, and checks
// that every order checkout accepted is processed.
func TestAcceptedOrdersSurviveKill(t *testing.T) {
	components := t.TempDir()
	writeComponents(t, components)
	data := t.TempDir()

	f := startFuncd(t, components, data, []string{"PROCESSING_DELAY=300ms"})
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for id := 1; id <= 19; id++ {
		if status, body, err := f.postOrder(ctx, id); err != nil || status != http.StatusOK {
			t.Fatalf("order %d: got %d %q %v, want 200", id, status, body, err)
		}
	}
	waitFor(t, 30*time.Second, "order-processor to start processing", func() bool { return len(f.received()) >= 1 })
	before := f.received()
	if len(before) == 19 {
		t.Fatalf("all 19 orders were processed before the kill; the test proves nothing")
	}
	pids := f.functionPIDs()
	f.kill(syscall.SIGKILL)
	waitFor(t, 5*time.Second, "function processes to die with funcd", func() bool {
		for _, pid := range pids {
			if !processGone(pid) {
				return false
			}
		}
		return true
	})
	t.Logf("killed funcd after %d of 19 orders were processed", len(before))

	g := startFuncd(t, components, data, nil)
	waitFor(t, 90*time.Second, "every accepted order after the restart", func() bool {
		after := g.received()
		for id := 1; id <= 19; id++ {
			if before[id] == 0 && after[id] == 0 {
				return false
			}
		}
		return true
	})
	dups := 0
	for id, n := range g.received() {
		dups += n + before[id] - 1
	}
	t.Logf("all 19 orders processed across the kill; %d redelivered duplicates (at-least-once)", dups)
	g.kill(syscall.SIGTERM)
}

// writeComponents writes the project's resources as shipped: the embedded
// broker redelivers an unacknowledged order 5s (its ackWait) after a
// crash, and reports deliveries that run longer in progress, so they are
// not duplicated.
func writeComponents(t testing.TB, dir string) {
	t.Helper()
	for _, name := range []string{"pubsub.yaml", "subscription.yaml"} {
		data, err := os.ReadFile(filepath.Join("..", "components", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// deliveryResiliency bounds orderpubsub's deliveries to fit a short
// redelivery timeout: attempts of at most timeout, maxRetries retries wait
// apart, so a delivery holds a message at most (maxRetries+1) × timeout +
// maxRetries × wait.
func deliveryResiliency(timeout, wait string, maxRetries int) string {
	return fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: orders-delivery
spec:
  policies:
    timeouts:
      delivery: %s
    retries:
      delivery:
        policy: constant
        duration: %s
        maxRetries: %d
  targets:
    components:
      orderpubsub:
        inbound:
          timeout: delivery
          retry: delivery
`, timeout, wait, maxRetries)
}

func post(t *testing.T, url, contentType, body string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
