//go:build bench

package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// benchReport is everything one make bench run measured.
type benchReport struct {
	Machine    machine   `json:"machine"`
	Started    time.Time `json:"started"`
	Finished   time.Time `json:"finished"`
	Orders     int       `json:"orders"`
	Publishers int       `json:"publishers"`
	Rate       int       `json:"rate"`
	RateFor    string    `json:"rateFor"`
	// FuncdData is where funcd's broker kept its data (-bench.data);
	// empty: the test's temporary folder.
	FuncdData string        `json:"funcdData,omitempty"`
	Results   []benchResult `json:"results"`
}

var (
	benchSystems   = []string{"seed", "funcd"}
	benchProtocols = []string{"http", "grpc"}
	systemTitle    = map[string]string{"seed": "daprd 1.16 + Redis 7 (seed)", "funcd": "funcd up (shipped)"}
)

// pick returns f of every result of system and protocol, in round order.
func (r *benchReport) pick(system, proto string, f func(benchResult) float64) []float64 {
	var out []float64
	for _, res := range r.Results {
		if res.System == system && res.Protocol == proto {
			out = append(out, f(res))
		}
	}
	return out
}

// ratios are funcd's f over the seed's, round by round.
func (r *benchReport) ratios(proto string, f func(benchResult) float64) []float64 {
	seed := r.pick("seed", proto, f)
	fd := r.pick("funcd", proto, f)
	var out []float64
	for i := range min(len(seed), len(fd)) {
		out = append(out, fd[i]/seed[i])
	}
	return out
}

func eventsPerSec(r benchResult) float64 { return r.EventsPerSec }

func atRateP99(r benchResult) float64 { return r.AtRate.P99 }

func cpuTotal(r benchResult) float64 {
	t := 0.0
	for _, v := range r.CPUPerOrder {
		t += v
	}
	return t
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(v []float64, format string) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf(format+" ("+format+"-"+format+")", median(v), slices.Min(v), slices.Max(v))
}

func (r *benchReport) summaryLines() []string {
	var out []string
	for _, proto := range benchProtocols {
		for _, sys := range benchSystems {
			out = append(out, fmt.Sprintf("%s %s: median %.0f events/s; at %d/s p99 %.2f ms", sys, proto,
				median(r.pick(sys, proto, eventsPerSec)), r.Rate, median(r.pick(sys, proto, atRateP99))))
		}
		out = append(out, fmt.Sprintf("funcd/seed %s: %s events/s, %s p99 at %d/s", proto,
			summarize(r.ratios(proto, eventsPerSec), "%.2fx"), summarize(r.ratios(proto, atRateP99), "%.2fx"), r.Rate))
	}
	return out
}

// write writes performance.md, performance.svg and performance.json into dir.
func (r *benchReport) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	// The sections of make coldstart and make memory, the last ones, stay.
	md := r.markdown()
	if old, err := os.ReadFile(filepath.Join(dir, "performance.md")); err == nil {
		i := len(old)
		for _, h := range []string{coldStartHeading, memoryHeading} {
			if j := strings.Index(string(old), h); j >= 0 {
				i = min(i, j)
			}
		}
		md += string(old[i:])
	}
	files := map[string][]byte{
		"performance.json": append(js, '\n'),
		"performance.svg":  []byte(r.svg()),
		"performance.md":   []byte(md),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (r *benchReport) markdown() string {
	var b strings.Builder
	rounds := len(r.pick("funcd", "http", eventsPerSec))
	fmt.Fprintf(&b, `# Performance as shipped

Written by `+"`make bench`"+` (e2e/bench_test.go) on %s; do not edit by hand.

`+"`bin/funcd up`"+`, as `+"`make run`"+` builds and starts it (the real checkout and
order-processor functions, components/ as shipped: the embedded JetStream
broker), against the seed architecture it replaces: redis-server, a daprd for
the publishers, a daprd delivering to a Go subscriber (the Dapr quickstart's
order-processor on the Dapr Go SDK, e2e/seedsub), with the seed's Redis
Component (Dapr's defaults). One load generator drives both: %d publishers
post %d orders to the Dapr publish API, over HTTP (`+"`POST /v1.0/publish/orderpubsub/orders`"+`)
and over gRPC (the Dapr Go SDK's `+"`PublishEvent`"+`: daprd's gRPC port, `+"`funcd up --grpc-port`"+`).
An order is delivered when the subscriber's log line for it ("Subscriber
received: orderId=...") reaches the load generator: through funcd's output
for order-processor, straight from the subscriber's stdout for the seed.
Latency is from the start of the publish call to that line. Events/s is
orders over the time from the first publish to the last line. Then %d orders
a second for %s give the latencies at that rate. CPU per order is the
processes' user+system time (/proc) over the saturated run, divided by the
orders. The seed's redis-server keeps what it acknowledges in memory only
(`+"`--save \"\" --appendonly no`"+`); funcd's broker writes each event to its
data folder, %s, before it acknowledges it, and syncs the
folder's files every second (`+"`funcd up --fsync`"+`).

Each of the %d rounds starts both systems afresh, one after the other, the
order alternating between rounds (seed first in odd rounds). Figures are
medians over the rounds, with the lowest and highest in brackets.

## Machine

| | |
|---|---|
| CPU | %s |
| cores | %d |
| memory | %.1f GiB |
| kernel | %s |
| Go | %s |
| load average at start (1, 5, 15 min) | %s |
| load average at end | %s |
| ran | %s to %s |

Both systems and the load generator share the machine's cores, and the
machine may run other work: the load average at the start says how much
(at the end it includes the benchmark's own). Ratios from the same round
are fairer than absolute figures.

![events/s and latency percentiles, funcd vs seed](performance.svg)

## Results

`, r.Started.Format("2006-01-02"), r.Publishers, r.Orders, r.Rate, r.RateFor, r.dataFolder(), rounds,
		r.Machine.CPU, r.Machine.Cores, r.Machine.MemoryGiB, r.Machine.Kernel, r.Machine.Go, r.Machine.LoadStart, r.Machine.LoadEnd,
		r.Started.Format("15:04"), r.Finished.Format("15:04 MST"))
	for _, proto := range benchProtocols {
		fmt.Fprintf(&b, "### %s publishers\n\n| | %s | %s |\n|---|---|---|\n", protoTitle[proto], systemTitle["seed"], systemTitle["funcd"])
		rows := []struct {
			name, format string
			f            func(benchResult) float64
		}{
			{fmt.Sprintf("saturated, %d publishers: events/s", r.Publishers), "%.0f", eventsPerSec},
			{"saturated: e2e p50 ms", "%.1f", func(x benchResult) float64 { return x.Saturated.P50 }},
			{"saturated: e2e p99 ms", "%.1f", func(x benchResult) float64 { return x.Saturated.P99 }},
			{fmt.Sprintf("at %d/s: e2e p50 ms", r.Rate), "%.2f", func(x benchResult) float64 { return x.AtRate.P50 }},
			{fmt.Sprintf("at %d/s: e2e p90 ms", r.Rate), "%.2f", func(x benchResult) float64 { return x.AtRate.P90 }},
			{fmt.Sprintf("at %d/s: e2e p99 ms", r.Rate), "%.2f", atRateP99},
			{"CPU per order, all processes: µs", "%.0f", cpuTotal},
		}
		for _, row := range rows {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", row.name,
				summarize(r.pick("seed", proto, row.f), row.format), summarize(r.pick("funcd", proto, row.f), row.format))
		}
		fmt.Fprintf(&b, "| **funcd / seed, events/s, same round** | | **%s** |\n", summarize(r.ratios(proto, eventsPerSec), "%.2fx"))
		fmt.Fprintf(&b, "| **funcd / seed, p99 at %d/s, same round** | | **%s** |\n\n", r.Rate, summarize(r.ratios(proto, atRateP99), "%.2fx"))
		b.WriteString(r.cpuTable(proto))
	}
	b.WriteString(r.roundsTable())
	return b.String()
}

// dataFolder says where funcd's broker kept its data.
func (r *benchReport) dataFolder() string {
	if r.FuncdData == "" {
		return "in the test's temporary folder"
	}
	return "in " + r.FuncdData
}

// describeData describes -bench.data's folder for the report: whether it
// is a tmpfs (in memory only).
func describeData(folder string) string {
	if folder == "" {
		return ""
	}
	var fs syscall.Statfs_t
	if syscall.Statfs(folder, &fs) == nil && fs.Type == tmpfsMagic {
		return folder + " (-bench.data; a tmpfs: in memory only)"
	}
	return folder + " (-bench.data)"
}

// tmpfsMagic is the f_type statfs(2) reports for a tmpfs.
const tmpfsMagic = 0x01021994

// cpuTable breaks CPU per order down by process (medians).
func (r *benchReport) cpuTable(proto string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "CPU per order by process, %s publishers (µs, medians):\n\n| system | process | µs/order |\n|---|---|---|\n", protoTitle[proto])
	for _, sys := range benchSystems {
		labels := map[string]bool{}
		for _, res := range r.Results {
			if res.System == sys && res.Protocol == proto {
				for k := range res.CPUPerOrder {
					labels[k] = true
				}
			}
		}
		for _, l := range slices.Sorted(maps.Keys(labels)) {
			fmt.Fprintf(&b, "| %s | %s | %.0f |\n", sys, l, median(r.pick(sys, proto, func(x benchResult) float64 { return x.CPUPerOrder[l] })))
		}
	}
	return b.String() + "\n"
}

func (r *benchReport) roundsTable() string {
	var b strings.Builder
	b.WriteString("## Every round\n\n| round | system | publishers | events/s | saturated p50 / p99 ms | at-rate p50 / p90 / p99 ms | CPU µs/order |\n|---|---|---|---|---|---|---|\n")
	for _, x := range r.Results {
		fmt.Fprintf(&b, "| %d | %s | %s | %.0f | %.1f / %.1f | %.2f / %.2f / %.2f | %.0f |\n", x.Round, x.System, x.Protocol,
			x.EventsPerSec, x.Saturated.P50, x.Saturated.P99, x.AtRate.P50, x.AtRate.P90, x.AtRate.P99, cpuTotal(x))
	}
	b.WriteString("\nThe raw figures are in performance.json.\n")
	return b.String()
}
