package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// The CloudEvents conformance CLI v0.2.0 (cmd/cloudevents, built by
// tools/build.sh) against each function and against the gateway:
//
//   - the v1.0 suite verbatim (`cloudevents invoke URL -f .../yaml/v1.0`):
//     six spec-valid events (text, JSON string, object and array, XML). None
//     is an order, so both functions must answer each with their documented
//     400 (a permanent failure), never 415 or 5xx, and log its id: the
//     CloudEvents layer accepted every event and handed it to the handler;
//   - the same suite with order data (suiteOrders: the same attributes,
//     binary and structured mode, extensions, subject, time, dataschema),
//     which must succeed end to end;
//   - `cloudevents send` in binary and in structured mode.

const suiteEvents = 6

var (
	rejected400 = regexp.MustCompile(`expected 200 level response, got 400 Bad Request`)
	anyNon2xx   = regexp.MustCompile(`expected 200 level response, got (\d+)`)
)

// conformanceSuite is the v1.0 folder of the conformance module.
func conformanceSuite(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "cloudevents", "conformance@v0.2.0", "yaml", "v1.0")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("conformance suite missing (%v): tools/build.sh cloudevents downloads it", err)
	}
	return dir
}

// suiteOrders writes the suite's shapes with order data.
func suiteOrders(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= suiteEvents; i++ {
		if i > 1 {
			b.WriteString("---\n")
		}
		mode := "binary"
		if i%2 == 0 {
			mode = "structured"
		}
		fmt.Fprintf(&b, `Mode: %s
ContextAttributes:
  specversion: 1.0
  type: com.example.order
  id: order-conformance-%04d
  source: //github.com/funcd/funcd/e2e/conformance
  subject: order-%d
  time: 2026-11-25T10:00:0%dZ
  dataschema: https://example.com/schemas/order
  datacontenttype: application/json; charset=utf-8
  Extensions:
    comexampleextension1: value-%d
Data: |
  {"orderId":%d,"customerName":"Conformance %d","amount":%d.5,"status":"Pending"}
`, mode, i, i, i, i, 9000+i, i, i)
	}
	path := filepath.Join(t.TempDir(), "orders.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// ceCmd runs the conformance CLI and returns its combined output.
func ceCmd(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), bin, args...).CombinedOutput()
	return string(out), err
}

// checkConformance runs the three parts against url; logs, when not nil,
// returns the function's output so far, which must name every suite event.
func checkConformance(t *testing.T, bin, url string, logs func() string) {
	t.Helper()
	out, err := ceCmd(t, bin, "invoke", url, "-f", conformanceSuite(t))
	// cobra prints the joined errors twice; the log line holds them once.
	_, errs, _ := strings.Cut(out, "error during command execution:")
	if got := len(rejected400.FindAllString(errs, -1)); err == nil || got != suiteEvents {
		t.Errorf("v1.0 suite: got exit %v with %d answers of 400, want %d (every event reached the order validation):\n%s", err, got, suiteEvents, out)
	}
	for _, m := range anyNon2xx.FindAllStringSubmatch(errs, -1) {
		if m[1] != "400" {
			t.Errorf("v1.0 suite: an event got %s, want only 400 (the CloudEvents layer must accept every event)", m[1])
		}
	}
	if logs != nil {
		for i := 1; i <= suiteEvents; i++ {
			if id := fmt.Sprintf("conformance-%04d", i); !strings.Contains(logs(), id) {
				t.Errorf("v1.0 suite: the function did not log event %s", id)
			}
		}
	}
	if out, err := ceCmd(t, bin, "invoke", url, "-f", suiteOrders(t)); err != nil {
		t.Errorf("order-shaped suite: %v\n%s", err, out)
	}
	for _, mode := range []string{"binary", "structured"} {
		out, err := ceCmd(t, bin, "send", url, "--mode", mode, "--id", "send-"+mode, "--source", "/e2e/conformance",
			"--type", "com.example.order", "--datacontenttype", "application/json", "--extension", "comexampleext=1",
			"--data", `{"orderId":9100,"customerName":"Send","amount":1,"status":"Pending"}`)
		if err != nil {
			t.Errorf("cloudevents send --mode %s: %v\n%s", mode, err, out)
		}
	}
}

func TestCloudEventsConformanceFunctions(t *testing.T) {
	bin := cloudeventsTool.need(t)
	opFn, opBin := buildFunction(t, "../functions/order-processor")
	coFn, coBin := buildFunction(t, "../functions/checkout")
	t.Run("order-processor", func(t *testing.T) {
		op := startFunction(t, opFn, opBin, true)
		checkConformance(t, bin, op.url, op.output)
	})
	t.Run("checkout", func(t *testing.T) {
		sc := startSidecar(t, "checkout")
		co := startFunction(t, coFn, coBin, true, "DAPR_GRPC_PORT="+strconv.Itoa(sc.grpcPort))
		checkConformance(t, bin, co.url, co.output)
		if got := len(sc.rec.requests()); got != suiteEvents+2 {
			t.Errorf("checkout published %d orders, want %d (the order-shaped suite and two sends)", got, suiteEvents+2)
		}
	})
}

func TestCloudEventsConformanceGateway(t *testing.T) {
	bin := cloudeventsTool.need(t)
	f := startFuncd(t, "../components", t.TempDir(), nil)
	for _, fn := range []string{"checkout", "order-processor"} {
		t.Run(fn, func(t *testing.T) {
			checkConformance(t, bin, f.gateway+"/"+fn, nil)
		})
	}
}
