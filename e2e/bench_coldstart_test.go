//go:build bench

package e2e

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestColdStart flags: make coldstart runs TestColdStart with these defaults.
var (
	coldStarts   = flag.Int("coldstart.n", 100, "cold starts TestColdStart times")
	coldStartGap = flag.Duration("coldstart.gap", 300*time.Millisecond, "how long TestColdStart waits after the instance stopped before the next request")
	coldStartOut = flag.String("coldstart.out", "", "folder whose performance.md gets the figures as its section "+coldStartHeading[1:len(coldStartHeading)-1]+"; empty: none")
)

const coldStartHeading = "\n## Cold start\n"

// TestColdStart measures cold starts as users see them: -bench.funcd up
// with the real functions and `--idle 0s`, so that an instance stops as
// soon as its request is answered; then -coldstart.n times: wait until
// order-processor has no instance (and -coldstart.gap more, so its process
// is gone too), post one order to it through the gateway with curl, and
// take curl's time_total. It also reads funcd's own view of the same cold
// starts (process start to ready) from the gateway. Then it times what a
// process alone takes to accept connections, order-processor's binary and
// a bare Go net/http server alternated: the floor under the figures above.
// It reports; it asserts nothing about the figures.
func TestColdStart(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Fatal("make coldstart times each request with curl: apt-get install curl")
	}
	sys := startFuncdSystem(t, benchFuncdPath(t), "--idle", "0s")
	url := sys.gateway + "/order-processor"
	var took []time.Duration
	for i := range *coldStarts {
		waitFor(t, time.Minute, "order-processor at zero instances", func() bool {
			return gatewayStatus(t, sys.gateway)["order-processor"].Instances == 0
		})
		time.Sleep(*coldStartGap)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, curl, "-sS", "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
			"-X", "POST", url,
			"-H", "ce-specversion: 1.0", "-H", "ce-id: cold-"+strconv.Itoa(i), "-H", "ce-source: /e2e/coldstart",
			"-H", "ce-type: com.example.order", "-H", "content-type: application/json",
			"-d", fmt.Sprintf(`{"orderId":%d,"customerName":"Cold Start","amount":1,"status":"Pending"}`, i+1)).Output()
		cancel()
		code, total, _ := strings.Cut(string(out), " ")
		if err != nil || code != "200" {
			t.Fatalf("cold start %d: curl %s: %v", i+1, out, err)
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(total), 64)
		if err != nil {
			t.Fatalf("curl's time_total %q: %v", total, err)
		}
		took = append(took, time.Duration(secs*float64(time.Second)))
	}
	info := gatewayStatus(t, sys.gateway)["order-processor"]
	if info.ColdStarts != *coldStarts {
		t.Errorf("funcd counted %d cold starts of order-processor, want %d: the figures are not all cold starts", info.ColdStarts, *coldStarts)
	}
	q := quantiles(took) // sorts took
	t.Logf("order-processor, %d cold starts through the gateway, curl's time_total: min %.2f, p50 %.2f, p90 %.2f, p99 %.2f, max %.2f ms; funcd's process start to ready: p50 %s, p99 %s",
		len(took), ms(took[0]), ms(q(0.5)), ms(q(0.9)), ms(q(0.99)), ms(took[len(took)-1]), info.ColdStartP50, info.ColdStartP99)
	opBin := functionBinary(t, "../functions/order-processor")
	bare := bareServer(t)
	var opListens, opReadies, bareListens, bareReadies []time.Duration
	for range *coldStarts {
		listen, ready := startToReady(t, opBin)
		opListens, opReadies = append(opListens, listen), append(opReadies, ready)
		listen, ready = startToReady(t, bare)
		bareListens, bareReadies = append(bareListens, listen), append(bareReadies, ready)
	}
	opL, opR, bareL, bareR := quantiles(opListens), quantiles(opReadies), quantiles(bareListens), quantiles(bareReadies)
	t.Logf("process start to accepting connections, %d starts each, alternated: order-processor's binary p50 %.2f, p90 %.2f ms; a bare Go net/http server p50 %.2f, p90 %.2f ms",
		len(opListens), ms(opL(0.5)), ms(opL(0.9)), ms(bareL(0.5)), ms(bareL(0.9)))
	t.Logf("process start to its first 200 on /health/readiness: order-processor's binary p50 %.2f, p90 %.2f ms; a bare Go net/http server p50 %.2f, p90 %.2f ms",
		ms(opR(0.5)), ms(opR(0.9)), ms(bareR(0.5)), ms(bareR(0.9)))
	if *coldStartOut == "" {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, `%s
Written by `+"`make coldstart`"+` (e2e/bench_coldstart_test.go) on %s, on the machine
above (load average %s at the end).

`+"`bin/funcd up --idle 0s`"+` with the real functions, so that an instance stops as
soon as it has answered; %d times, once order-processor has no instance and
%s more have passed, one order is posted to it through the gateway as a
binary CloudEvent by curl, which times the request (time_total: connect,
the instance's start, the function's answer). funcd's own figure is its
process start to the function's first readiness answer.

| | min | p50 | p90 | p99 | max |
|---|---|---|---|---|---|
| curl through the gateway, ms | %.2f | %.2f | %.2f | %.2f | %.2f |

funcd's view (`+"`funcd status`"+`): process start to ready p50 %s, p99 %s.

What a process alone takes, from its start to accepting connections and
to its first 200 on /health/readiness, asked as funcd asks (funcd idle
beside it, %d starts of each binary, alternated; the same static build
funcd runs, and a bare Go `+"`net/http`"+` server built the same way, which
answers 200 on every path): the floor under a Go function's cold start on
this machine.

| process start to | accepting connections: p50 ms | p90 ms | first readiness answer: p50 ms | p90 ms |
|---|---|---|---|---|
| order-processor's binary | %.2f | %.2f | %.2f | %.2f |
| a bare Go `+"`net/http`"+` server | %.2f | %.2f | %.2f | %.2f |

`+"```sh"+`
make coldstart   # make build, then:
# cd e2e && go test -tags bench -run TestColdStart -count=1 -v . -bench.funcd=../bin/funcd -coldstart.out=../docs
`+"```"+`
`, coldStartHeading, time.Now().UTC().Format("2006-01-02"), loadAverage(), len(took), *coldStartGap,
		ms(took[0]), ms(q(0.5)), ms(q(0.9)), ms(q(0.99)), ms(took[len(took)-1]), info.ColdStartP50, info.ColdStartP99,
		len(opListens), ms(opL(0.5)), ms(opL(0.9)), ms(opR(0.5)), ms(opR(0.9)),
		ms(bareL(0.5)), ms(bareL(0.9)), ms(bareR(0.5)), ms(bareR(0.9)))
	if err := writeSection(filepath.Join(*coldStartOut, "performance.md"), coldStartHeading, b.String()); err != nil {
		t.Fatal(err)
	}
}

// quantiles returns the quantile function of ds (which it sorts).
func quantiles(ds []time.Duration) func(float64) time.Duration {
	slices.Sort(ds)
	return func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
}

// functionBinary is the binary funcd builds of the function in dir (its
// build cache is shared: a cache hit when funcd up just ran it).
func functionBinary(t *testing.T, dir string) string {
	_, bin := buildFunction(t, dir)
	return bin
}

// bareServer builds a Go net/http server that answers 200 on
// LISTEN_ADDRESS, statically as funcd builds functions.
func bareServer(t *testing.T) string {
	dir := t.TempDir()
	const src = `package main

import (
	"net/http"
	"os"
)

func main() {
	_ = http.ListenAndServe(os.Getenv("LISTEN_ADDRESS"), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
}
`
	for name, data := range map[string]string{"main.go": src, "go.mod": "module bare\n\ngo 1.21\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", "bare", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build a bare net/http server: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bare")
}

// startToReady starts bin with startListening and returns how long,
// from just before the start, it took to accept connections and to answer
// 200 on /health/readiness, asked as funcd's runner asks (every 250µs, then
// half as long again each time); then it kills the process and reaps it.
func startToReady(t *testing.T, bin string) (listen, ready time.Duration) {
	_, a, listen, stop := startListening(t, bin)
	defer stop()
	began := time.Now().Add(-listen)
	url := "http://" + a + "/health/readiness"
	client := &http.Client{Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	for delay := 250 * time.Microsecond; time.Since(began) < 30*time.Second; delay = delay * 3 / 2 {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return listen, time.Since(began)
			}
		}
		time.Sleep(delay)
	}
	t.Fatalf("%s was not ready within 30s", bin)
	return 0, 0
}

// startListening starts bin with LISTEN_ADDRESS on a free port, dials it
// every 100µs until it accepts, and returns the process accepting
// connections, its address, how long that took from just before the start,
// and stop, which kills and reaps it (at the latest when the test ends).
func startListening(t *testing.T, bin string) (cmd *exec.Cmd, a string, took time.Duration, stop func()) {
	a = addr(freePort(t))
	cmd = exec.Command(bin)
	cmd.Env = append(os.Environ(), "LISTEN_ADDRESS="+a, "FUNC_LOG_LEVEL=warn")
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = sync.OnceFunc(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	t.Cleanup(stop)
	for time.Since(began) < 30*time.Second {
		if c, err := net.DialTimeout("tcp", a, time.Second); err == nil {
			took = time.Since(began)
			c.Close()
			return cmd, a, took, stop
		}
		time.Sleep(100 * time.Microsecond)
	}
	t.Fatalf("%s did not listen on %s within 30s", bin, a)
	return nil, "", 0, nil
}
