//go:build bench

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/pprof/profile"
)

// A hop is a part of an order's way that CPU samples are charged to: the
// first hop, in list order, with a frame of the sample's stack matching one
// of its function name prefixes.
type hop struct {
	name   string
	frames []string
}

// funcdHops are the hops inside funcd.
var funcdHops = []hop{
	{"publish: broker write, client side (JetStream publish, ack wait)",
		[]string{"github.com/dapr/components-contrib/pubsub/jetstream.(*jetstreamPubSub).Publish", "github.com/funcd/funcd/runtime/pubsub/embedded.(*PubSub).Publish"}},
	{"publish API: HTTP server, envelope, access rules (gateway, sidecar)",
		[]string{"net/http.(*conn).serve"}},
	{"publish API: gRPC server, envelope (sidecar)",
		[]string{"google.golang.org/grpc"}},
	{"binding -> function: HTTP request and answer",
		[]string{"github.com/funcd/funcd/runtime/delivery.(*Deliverer).Post", "net/http.(*persistConn)", "net/http.(*Transport)"}},
	{"broker -> binding: consumer, envelope decode, outcome, ack",
		[]string{"github.com/funcd/funcd/runtime/pubsub/embedded.(*parallel)", "github.com/funcd/funcd/runtime/subscriptions.", "github.com/funcd/funcd/runtime/delivery."}},
	{"broker: nats-server (receive, file store, consumer delivery)",
		[]string{"github.com/nats-io/nats-server/v2/server."}},
	{"nats client connections: read and flush loops (publish acks, deliveries)",
		[]string{"github.com/nats-io/nats%2ego."}},
	{"function output: forwarding log lines",
		[]string{"github.com/funcd/funcd/runtime/runner."}},
	{"garbage collector", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge", "runtime.gcAssistAlloc", "runtime.markroot"}},
}

// functionHops are the hops inside a function process (func-go).
var functionHops = []hop{
	{"Handle: decode the order, log its line", []string{"function.(*Function).Handle"}},
	{"CloudEvent receiver: decode, validate, answer (funcd's direct.go with the SDK's binding; func-go's SDK client for other signatures)",
		[]string{"github.com/cloudevents/sdk-go/v2/client.", "github.com/cloudevents/sdk-go/v2/binding.", "github.com/cloudevents/sdk-go/v2/protocol/http.",
			"main.directHandler.", "main.respond", "main.withTrace", "main.hopTrace"}},
	{"HTTP server: read the request, write the answer", []string{"net/http.(*conn).serve"}},
	{"garbage collector", []string{"runtime.gcBgMarkWorker", "runtime.bgsweep", "runtime.bgscavenge", "runtime.gcAssistAlloc", "runtime.markroot"}},
}

// costs charges the CPU samples of the profiles to hops and returns the
// time of each (the last entry: what no hop matched), and the total.
func costs(paths []string, hops []hop) ([]time.Duration, time.Duration, error) {
	out := make([]time.Duration, len(hops)+1)
	var total time.Duration
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, 0, err
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		idx := len(p.SampleType) - 1 // cpu nanoseconds
		for _, s := range p.Sample {
			d := time.Duration(s.Value[idx])
			total += d
			out[hopOf(s, hops)] += d
		}
	}
	return out, total, nil
}

func hopOf(s *profile.Sample, hops []hop) int {
	for i, h := range hops {
		for _, loc := range s.Location {
			for _, line := range loc.Line {
				if line.Function == nil {
					continue
				}
				for _, prefix := range h.frames {
					if strings.HasPrefix(line.Function.Name, prefix) {
						return i
					}
				}
			}
		}
	}
	return len(hops)
}

// costTable writes the markdown cost table of the profiles in dirs (each
// as funcd up --cpu-profile writes them for one run of orders orders): per
// hop, the median over the runs of the CPU per order.
func costTable(dirs []string, orders int) (string, error) {
	parts := []struct {
		process string
		glob    string
		hops    []hop
	}{
		{"funcd", "funcd.pprof", funcdHops},
		{"function processes", "*-*.pprof", functionHops},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| process | hop | µs per order | share of the process |\n|---|---|---|---|\n")
	for _, part := range parts {
		perHop := make([][]float64, len(part.hops)+1)
		var totals []float64
		for _, dir := range dirs {
			paths, err := filepath.Glob(filepath.Join(dir, part.glob))
			if err != nil || len(paths) == 0 {
				return "", fmt.Errorf("no %s in %s (%v)", part.glob, dir, err)
			}
			got, total, err := costs(paths, part.hops)
			if err != nil {
				return "", err
			}
			for i, d := range got {
				perHop[i] = append(perHop[i], float64(d.Microseconds())/float64(orders))
			}
			totals = append(totals, float64(total.Microseconds())/float64(orders))
		}
		for i, v := range perHop {
			name := "other (scheduler, syscalls outside the hops above, timers)"
			if i < len(part.hops) {
				name = part.hops[i].name
			}
			fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f%% |\n", part.process, name, median(v), 100*median(v)/median(totals))
		}
		fmt.Fprintf(&b, "| **%s** | **total** | **%.0f** | |\n", part.process, median(totals))
	}
	fmt.Fprintf(&b, "\nMedians over %d runs of %d orders each.\n", len(dirs), orders)
	return b.String(), nil
}
