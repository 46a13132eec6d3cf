//go:build bench

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestMemory flags: make memory runs TestMemory with these defaults.
var (
	memoryOrders = flag.Int("memory.orders", 100_000, "orders in TestMemory's burst")
	memoryIdle   = flag.Duration("memory.idle", 10*time.Second, "how long TestMemory leaves funcd idle after it is ready, before the first sample")
	memorySettle = flag.Duration("memory.settle", time.Minute, "how long TestMemory samples funcd after the burst")
	memoryVia    = flag.String("memory.via", "checkout", "where the burst's orders go: checkout (the gateway, the checkout function, its publish) or publish (the gateway's Dapr publish API)")
)

// TestMemory measures funcd's resident memory as users run it (-bench.funcd,
// the real functions and components/, as make bench starts it): idle once
// it is ready, at most during a burst of -memory.orders orders from
// -bench.publishers publishers, and every 10s for -memory.settle after the
// burst was processed. Each sample also gives the Go runtime's view from
// the gateway's /metrics. It reports; it asserts nothing about the figures.
func TestMemory(t *testing.T) {
	sys := startFuncdSystem(t, benchFuncdPath(t))
	pid := sys.procs[0].pid
	time.Sleep(*memoryIdle)
	idle := sampleMemory(t, pid, sys.gateway)
	t.Logf("idle, %s after ready: %s", *memoryIdle, idle)

	pub := httpPublisher(sys.httpURL)
	if *memoryVia == "checkout" {
		pub = checkoutPublisher(sys.gateway + "/checkout")
	}
	began := time.Now()
	ph := saturate(t, sys, pub, *memoryOrders)
	took := ph.last.Sub(began)
	done := sampleMemory(t, pid, sys.gateway)
	t.Logf("burst: %d orders through %s in %s (%.0f events/s); at its end: %s",
		ph.n, *memoryVia, took.Round(time.Millisecond), float64(ph.n)/took.Seconds(), done)

	last := done
	for at := 10 * time.Second; at <= *memorySettle; at += 10 * time.Second {
		time.Sleep(10 * time.Second)
		last = sampleMemory(t, pid, sys.gateway)
		t.Logf("%s after the burst: %s", at, last)
	}
	t.Logf("funcd RSS: %.1f MB idle at start, %.1f MB at most, %.1f MB %s after a burst of %d orders (%s)",
		mb(idle.rssKB), mb(last.hwmKB), mb(last.rssKB), *memorySettle, *memoryOrders, *memoryVia)
}

// checkoutPublisher posts each order to the checkout function through the
// gateway, as a binary CloudEvent, as the demo does.
func checkoutPublisher(url string) publisher {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	return func(ctx context.Context, id int) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(orderJSON(id)))
		if err != nil {
			return err
		}
		req.Header.Set("ce-specversion", "1.0")
		req.Header.Set("ce-id", "memory-order-"+strconv.Itoa(id))
		req.Header.Set("ce-source", "/e2e/memory")
		req.Header.Set("ce-type", "com.example.order")
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("checkout order %d: %s %s", id, resp.Status, body)
		}
		return nil
	}
}

// memorySample is funcd's memory at one moment: the kernel's view
// (/proc/<pid>/status) and the Go runtime's (the gateway's /metrics).
type memorySample struct {
	rssKB, anonKB, fileKB, hwmKB int
	metrics                      map[string]float64
}

func (s memorySample) String() string {
	m := s.metrics
	return fmt.Sprintf("RSS %.1f MB (anon %.1f, file %.1f), peak %.1f MB; Go heap in use %.1f MB, idle %.1f MB of which released %.1f MB, stacks %.1f MB, other runtime %.1f MB; %.0f goroutines; %.0f function instances",
		mb(s.rssKB), mb(s.anonKB), mb(s.fileKB), mb(s.hwmKB),
		m["go_memstats_heap_inuse_bytes"]/(1<<20), m["go_memstats_heap_idle_bytes"]/(1<<20), m["go_memstats_heap_released_bytes"]/(1<<20),
		m["go_memstats_stack_sys_bytes"]/(1<<20),
		(m["go_memstats_sys_bytes"]-m["go_memstats_heap_sys_bytes"]-m["go_memstats_stack_sys_bytes"])/(1<<20),
		m["go_goroutines"], m["funcd_function_instances"])
}

func sampleMemory(t *testing.T, pid int, gateway string) memorySample {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	s := memorySample{metrics: map[string]float64{}}
	fields := map[string]*int{"VmRSS:": &s.rssKB, "RssAnon:": &s.anonKB, "RssFile:": &s.fileKB, "VmHWM:": &s.hwmKB}
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		if p, ok := fields[f[0]]; ok && len(f) > 1 {
			*p, _ = strconv.Atoi(f[1])
		}
	}
	resp, err := http.Get(gateway + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		name, _, _ := strings.Cut(line[:i], "{") // labelled series add up
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			s.metrics[name] += v
		}
	}
	return s
}
