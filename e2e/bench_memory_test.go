//go:build bench

package e2e

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
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
	memoryOut    = flag.String("memory.out", "", "folder whose performance.md gets the figures as its section "+memoryHeading[1:len(memoryHeading)-1]+"; empty: none")
)

// memoryHeading starts TestMemory's section of performance.md.
const memoryHeading = "\n## Memory\n"

// TestMemory measures funcd's resident memory as users run it (-bench.funcd,
// the real functions and components/, as make bench starts it): idle once
// it is ready, at most during a burst of -memory.orders orders from
// -bench.publishers publishers, and every 10s for -memory.settle after the
// burst was processed. Each sample also gives the Go runtime's view from
// the gateway's /metrics, and how much of the resident memory is funcd's
// executable; a bare Go net/http server's executable, measured last, shows
// how much of any Go program's the kernel keeps mapped in once it has
// started. It reports; it asserts nothing about the figures.
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
	var settling []int // RSS KB of each sample after the burst
	for at := 10 * time.Second; at <= *memorySettle; at += 10 * time.Second {
		time.Sleep(10 * time.Second)
		last = sampleMemory(t, pid, sys.gateway)
		settling = append(settling, last.rssKB)
		t.Logf("%s after the burst: %s", at, last)
	}
	t.Logf("funcd RSS: %.1f MB idle at start, %.1f MB at most, %.1f MB %s after a burst of %d orders (%s)",
		mb(idle.rssKB), mb(last.hwmKB), mb(last.rssKB), *memorySettle, *memoryOrders, *memoryVia)
	bare := bareExecutableMemory(t)
	t.Logf("a bare Go net/http server, once it accepts connections: its executable %.1f MB resident of %.1f MB mapped",
		mb(bare.rssKB), mb(bare.sizeKB))
	if *memoryOut != "" {
		sec := memorySection(idle, done, last, settling, bare, ph.n, took)
		if err := writeSection(filepath.Join(*memoryOut, "performance.md"), memoryHeading, sec); err != nil {
			t.Fatal(err)
		}
	}
}

// memorySection is performance.md's section on memory.
func memorySection(idle, done, last memorySample, settling []int, bare executableMemory, orders int, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, `%s
Written by `+"`make memory`"+` (e2e/bench_memory_test.go) on %s, on the machine
above (load average %s at the end).

funcd's resident memory (VmRSS in /proc/<pid>/status: its anonymous
memory, and the pages of files it has mapped, mostly its own executable's)
as make bench starts it: idle %s after it is ready, at most during a burst
of %d orders posted to checkout by %d publishers through the gateway
(%s, %.0f orders/s, each processed by order-processor), and %s after
the last was processed. After a burst, once traffic stops and a few times
more while it stays quiet, funcd compacts the traces it keeps and hands
its unused heap back to the system. The Go heap in use is the memory of
its spans, its objects the bytes of the objects in them (the live ones,
and garbage not yet collected): a span stays in use while one object in it
lives.

| | RSS MB | anonymous MB | files MB | Go heap in use MB | Go heap objects MB | goroutines |
|---|---|---|---|---|---|---|
`, memoryHeading, time.Now().UTC().Format("2006-01-02"), loadAverage(), *memoryIdle, orders, *benchPublishers,
		took.Round(time.Second), float64(orders)/took.Seconds(), *memorySettle)
	row := func(name string, s memorySample, rss int) {
		fmt.Fprintf(&b, "| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.0f |\n", name, mb(rss), mb(s.anonKB), mb(s.fileKB),
			s.metrics["go_memstats_heap_inuse_bytes"]/(1<<20), s.metrics["go_memstats_heap_alloc_bytes"]/(1<<20), s.metrics["go_goroutines"])
	}
	row("idle after start", idle, idle.rssKB)
	fmt.Fprintf(&b, "| at most (VmHWM) | %.1f | | | | | |\n", mb(last.hwmKB))
	row("when the burst was processed", done, done.rssKB)
	if len(settling) > 0 {
		fmt.Fprintf(&b, "| each 10s until %s after: lowest, highest | %.1f, %.1f | | | | | |\n",
			*memorySettle, mb(slices.Min(settling)), mb(slices.Max(settling)))
	}
	row(fmt.Sprintf("%s after the burst", *memorySettle), last, last.rssKB)
	fmt.Fprintf(&b, `
The files column is funcd's executable, nearly all of it: %.1f MB of the
%.1f MB it maps were resident when idle, %.1f MB %s after the burst. The
kernel maps a program's file pages 64 KB around each one it touches, and a
Go program's start runs every linked package's initialisation, spread over
its code: a bare Go `+"`net/http`"+` server built as funcd builds functions has
%.1f MB of its %.1f MB resident as soon as it accepts connections (%.0f%%).
These pages are clean and shared with the page cache, so the kernel can
take them back under memory pressure; the anonymous memory is funcd's own.
`, mb(idle.exe.rssKB), mb(idle.exe.sizeKB), mb(last.exe.rssKB), *memorySettle,
		mb(bare.rssKB), mb(bare.sizeKB), 100*float64(bare.rssKB)/float64(bare.sizeKB))
	fmt.Fprintf(&b, `
The broker keeps each message's id for its stream's duplicate window (30 s
unless the component's duplicateWindow says otherwise): what a burst's ids
take goes back once the window has passed after the last publish, at
funcd's next hand-back. To measure again:

`+"```sh"+`
make memory   # make build, then:
# cd e2e && go test -tags bench -run TestMemory -count=1 -v . -bench.funcd=../bin/funcd -memory.out=../docs
`+"```"+`
`)
	return b.String()
}

// writeSection replaces the section of the performance.md at path that
// starts with heading (up to the next section or the end), or adds it at
// the end. make bench keeps these sections when it writes the rest.
func writeSection(path, heading, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	md := strings.TrimRight(string(old), "\n") + "\n"
	if i := strings.Index(md, heading); i < 0 {
		md += section
	} else {
		rest := ""
		if j := strings.Index(md[i+len(heading):], "\n## "); j >= 0 {
			rest = md[i+len(heading)+j:]
		}
		md = md[:i] + section + rest
	}
	return os.WriteFile(path, []byte(md), 0o644)
}

// checkoutPublisher posts each order to the checkout function through the
// gateway, as a binary CloudEvent, as the demo does.
func checkoutPublisher(url string) publisher {
	return postPublisher(url, http.StatusOK, func(h http.Header, id int) {
		h.Set("ce-specversion", "1.0")
		h.Set("ce-id", "memory-order-"+strconv.Itoa(id))
		h.Set("ce-source", "/e2e/memory")
		h.Set("ce-type", "com.example.order")
	})
}

// memorySample is funcd's memory at one moment: the kernel's view
// (/proc/<pid>/status) and the Go runtime's (the gateway's /metrics).
type memorySample struct {
	rssKB, anonKB, fileKB, hwmKB int
	exe                          executableMemory
	metrics                      map[string]float64
}

// executableMemory is what a process's own executable takes of its
// address space (the mappings of the file: code, read-only data, the
// function table) and of its resident memory.
type executableMemory struct{ sizeKB, rssKB int }

// readExecutableMemory sums the Size of pid's mappings of its executable,
// and their resident pages of the file (Rss less Anonymous), from
// /proc/<pid>/smaps.
func readExecutableMemory(pid int) (executableMemory, error) {
	proc := "/proc/" + strconv.Itoa(pid)
	exe, err := os.Readlink(proc + "/exe")
	if err != nil {
		return executableMemory{}, err
	}
	b, err := os.ReadFile(proc + "/smaps")
	if err != nil {
		return executableMemory{}, err
	}
	var m executableMemory
	mine := false
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case strings.Contains(f[0], "-") && !strings.HasSuffix(f[0], ":"): // a mapping's first line
			mine = len(f) >= 6 && strings.Join(f[5:], " ") == exe
		case mine && len(f) >= 2:
			kb, _ := strconv.Atoi(f[1])
			switch f[0] {
			case "Size:":
				m.sizeKB += kb
			case "Rss:":
				m.rssKB += kb
			case "Anonymous:": // written data: private copies, not the file's
				m.rssKB -= kb
			}
		}
	}
	if m.sizeKB == 0 {
		return m, fmt.Errorf("%s/smaps has no mapping of %s", proc, exe)
	}
	return m, nil
}

// bareExecutableMemory starts the bare Go net/http server the cold start
// test builds, waits until it accepts connections and returns what its
// executable takes then: how much of an executable the kernel maps in
// for a Go program that has only started.
func bareExecutableMemory(t *testing.T) executableMemory {
	cmd, _, _, stop := startListening(t, bareServer(t))
	defer stop()
	m, err := readExecutableMemory(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (s memorySample) String() string {
	m := s.metrics
	return fmt.Sprintf("RSS %.1f MB (anon %.1f, file %.1f: its executable %.1f of %.1f), peak %.1f MB; Go heap in use %.1f MB (objects %.1f MB), idle %.1f MB of which released %.1f MB, stacks %.1f MB, other runtime %.1f MB; %.0f goroutines; %.0f function instances",
		mb(s.rssKB), mb(s.anonKB), mb(s.fileKB), mb(s.exe.rssKB), mb(s.exe.sizeKB), mb(s.hwmKB),
		m["go_memstats_heap_inuse_bytes"]/(1<<20), m["go_memstats_heap_alloc_bytes"]/(1<<20),
		m["go_memstats_heap_idle_bytes"]/(1<<20), m["go_memstats_heap_released_bytes"]/(1<<20),
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
	if s.exe, err = readExecutableMemory(pid); err != nil {
		t.Fatal(err)
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

func TestWriteSection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "performance.md")
	writeFile(t, path, "# Performance\n\nfigures\n")
	for _, step := range []struct{ heading, section, want string }{
		{memoryHeading, memoryHeading + "\nmemory 1\n", "# Performance\n\nfigures\n\n## Memory\n\nmemory 1\n"},
		{coldStartHeading, coldStartHeading + "\ncold 1\n", "# Performance\n\nfigures\n\n## Memory\n\nmemory 1\n\n## Cold start\n\ncold 1\n"},
		{memoryHeading, memoryHeading + "\nmemory 2\n", "# Performance\n\nfigures\n\n## Memory\n\nmemory 2\n\n## Cold start\n\ncold 1\n"},
		{coldStartHeading, coldStartHeading + "\ncold 2\n", "# Performance\n\nfigures\n\n## Memory\n\nmemory 2\n\n## Cold start\n\ncold 2\n"},
	} {
		if err := writeSection(path, step.heading, step.section); err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); string(got) != step.want {
			t.Fatalf("after writing %q:\n%s\nwant:\n%s", step.section, got, step.want)
		}
	}
}
