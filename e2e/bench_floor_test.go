//go:build bench

package e2e

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkLoopbackHTTPExchange is a microbenchmark of the least an order's
// HTTP exchanges can cost on this machine, whatever serves them: a bare
// net/http client posting one order as a binary-mode CloudEvent (the
// headers a delivery carries) over kept-alive loopback connections to a
// bare net/http handler that reads it and answers 200, 16 clients at once,
// as make bench's publishers. It reports the CPU both sides used per
// exchange (cpu-µs/op, this process's user+system time). An order crosses
// two such exchanges in funcd up, as in the seed: the Dapr publish API
// (publisher to funcd, to daprd) and the delivery (funcd to the function,
// daprd to the subscriber); docs/costs.md sets this floor against the
// goals. Run by
//
//	go test -tags bench -run '^$' -bench LoopbackHTTPExchange -benchtime 50000x -count 5 ./e2e/
func BenchmarkLoopbackHTTPExchange(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	const order = `{"orderId":1,"customerName":"Alice","amount":12.5,"status":"pending"}`
	var id atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores
	before := cpuTime(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(order))
			if err != nil {
				b.Error(err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Ce-Specversion", "1.0")
			req.Header.Set("Ce-Id", strconv.FormatInt(id.Add(1), 10))
			req.Header.Set("Ce-Source", "orderpubsub")
			req.Header.Set("Ce-Type", "com.dapr.event.sent")
			req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("got %s, want 200", resp.Status)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-before).Nanoseconds())/1e3/float64(b.N), "cpu-µs/op")
}

// cpuTime is the user+system time this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
