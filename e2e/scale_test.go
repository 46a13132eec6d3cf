package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/gateway"
)

// TestScaleToZero: a function at zero starts on a burst of 200 CloudEvents
// and answers every one, stops after its idle window (its process gone), and
// starts again on the next event.
func TestScaleToZero(t *testing.T) {
	f := startFuncd(t, "../components", t.TempDir(), nil, "--idle", "1s")
	if st := f.status(t)["order-processor"]; st.State != "zero" {
		t.Fatalf("order-processor before any event: %+v, want state zero", st)
	}

	var wg sync.WaitGroup
	statuses := make([]int, 200)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"orderId":%d,"customerName":"Burst %d","amount":1.0,"status":"Pending"}`, 1000+i, i)
			statuses[i], _ = post(t, f.gateway+"/order-processor", "application/json", body, map[string]string{
				"ce-specversion": "1.0", "ce-id": fmt.Sprint("burst-", i), "ce-source": "/e2e", "ce-type": "com.example.order",
			})
		}()
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusOK {
			t.Errorf("burst request %d: got %d, want 200", i, s)
		}
	}
	st := f.status(t)["order-processor"]
	if st.ColdStarts != 1 || st.Requests != 200 {
		t.Errorf("after the burst: %+v, want 1 cold start and 200 requests", st)
	}

	pids := f.functionPIDs()
	waitFor(t, 10*time.Second, "order-processor to scale to zero", func() bool {
		return f.status(t)["order-processor"].State == "zero"
	})
	if len(pids) == 0 {
		t.Fatal("no function process was reported ready")
	}
	// The instance leaves the pool first, then stops gracefully.
	for _, pid := range pids {
		waitFor(t, 10*time.Second, fmt.Sprintf("process %d to exit after scale to zero", pid), func() bool {
			return processGone(pid)
		})
	}

	status, body := post(t, f.gateway+"/order-processor", "application/json", `{"orderId":1}`, map[string]string{
		"ce-specversion": "1.0", "ce-id": "after-zero", "ce-source": "/e2e", "ce-type": "com.example.order",
	})
	if status != http.StatusOK {
		t.Fatalf("event after scale to zero: got %d %q, want 200", status, body)
	}
	if st := f.status(t)["order-processor"]; st.ColdStarts != 2 {
		t.Errorf("cold starts = %d, want 2", st.ColdStarts)
	}
	f.kill(syscall.SIGTERM)
}

// status reads GET / of the gateway.
func (f *funcd) status(t *testing.T) map[string]gateway.FunctionInfo {
	t.Helper()
	return gatewayStatus(t, f.gateway)
}

// gatewayStatus is the gateway's GET / at gw: each function's row by name.
func gatewayStatus(t *testing.T, gw string) map[string]gateway.FunctionInfo {
	t.Helper()
	resp, err := httpClient.Get(gw + "/")
	if err != nil {
		t.Fatalf("GET /: %v", err)
	}
	defer resp.Body.Close()
	var list struct {
		Functions []gateway.FunctionInfo `json:"functions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatalf("GET /: %v", err)
	}
	out := map[string]gateway.FunctionInfo{}
	for _, fn := range list.Functions {
		out[fn.Name] = fn
	}
	return out
}
