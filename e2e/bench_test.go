//go:build bench

package e2e

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// The product benchmark (make bench): bin/funcd up, as users run it with the
// real functions, against the seed architecture (daprd 1.16 + redis-server +
// a Go subscriber), driven by the same load generator, side by side: each
// round starts both systems afresh, one after the other, the order
// alternating between rounds. It measures and reports; it asserts nothing
// about the figures.
var (
	benchRounds     = flag.Int("bench.rounds", 5, "rounds; each runs every system once (medians over rounds)")
	benchOrders     = flag.Int("bench.orders", 20000, "orders per saturated measurement")
	benchPublishers = flag.Int("bench.publishers", 16, "concurrent publishers in the saturated measurement")
	benchRate       = flag.Int("bench.rate", 1000, "orders per second in the latency measurement")
	benchRateFor    = flag.Duration("bench.ratefor", 5*time.Second, "length of the latency measurement")
	benchFuncd      = flag.String("bench.funcd", "../bin/funcd", "the funcd binary under test (make build)")
	benchSystemsRun = flag.String("bench.systems", "seed,funcd", "systems to run, of seed and funcd")
	benchProtos     = flag.String("bench.protocols", "http,grpc", "publishers to run, of http and grpc")
	benchProfile    = flag.String("bench.profile", "", "folder for CPU profiles of funcd and its function processes (funcd up --cpu-profile)")
	benchExecTrace  = flag.String("bench.exectrace", "", "folder for Go execution traces of funcd, one per funcd up (funcd up --exec-trace): <test>.trace, for go tool trace")
	benchCosts      = flag.String("bench.costs", "", "only write the cost table of the profiles in this folder (a -bench.profile run's), for -bench.orders etc. as that run had them")
	benchData       = flag.String("bench.data", "", "folder in which each funcd up gets a fresh broker data folder; empty: the test's temporary folder. On a tmpfs (/dev/shm) the broker's acknowledged events are in memory only, as the seed's Redis (no persistence) keeps them")
	benchRender     = flag.String("bench.render", "", "only write the report into -bench.out again from this performance.json (a run's), as the run would have written it with this code")
	benchOut        = flag.String("bench.out", "", "folder for the report (performance.md, performance.svg, performance.json); empty: none")
)

// TestBench runs the product benchmark and writes its report.
func TestBench(t *testing.T) {
	if *benchCosts != "" {
		writeCosts(t, strings.Split(*benchCosts, ",")...)
		return
	}
	if *benchRender != "" {
		renderReport(t, *benchRender, *benchOut)
		return
	}
	funcdPath := benchFuncdPath(t)
	sub := buildSeedSub(t)
	rep := &benchReport{Machine: describeMachine(), Started: time.Now().UTC(),
		Orders: *benchOrders, Publishers: *benchPublishers, Rate: *benchRate, RateFor: benchRateFor.String(),
		FuncdData: describeData(*benchData)}
	systems := []benchStarter{
		{name: "seed", start: func(t *testing.T) *benchSystem { return startSeedSystem(t, sub) }},
		{name: "funcd", start: func(t *testing.T) *benchSystem { return startFuncdSystem(t, funcdPath) }},
	}
	var profiled []string // folders of funcd's profiles, by round
	for round := 1; round <= *benchRounds; round++ {
		order := systems
		if round%2 == 0 {
			order = []benchStarter{systems[1], systems[0]}
		}
		for _, s := range order {
			if !slices.Contains(strings.Split(*benchSystemsRun, ","), s.name) {
				continue
			}
			t.Run(fmt.Sprintf("round%d/%s", round, s.name), func(t *testing.T) {
				sys := s.start(t)
				for _, proto := range strings.Split(*benchProtos, ",") {
					r := measureSystem(t, sys, proto)
					r.Round, r.System = round, s.name
					t.Logf("%s %s: %.0f events/s, e2e p50 %.2f ms p99 %.2f ms; at %d/s p50 %.2f ms p99 %.2f ms; CPU %s",
						s.name, proto, r.EventsPerSec, r.Saturated.P50, r.Saturated.P99, *benchRate, r.AtRate.P50, r.AtRate.P99, r.cpuLine())
					rep.Results = append(rep.Results, r)
				}
			})
			if *benchProfile != "" && s.name == "funcd" {
				writeCosts(t, filepath.Join(*benchProfile, t.Name(), fmt.Sprintf("round%d", round), s.name))
				profiled = append(profiled, filepath.Join(*benchProfile, t.Name(), fmt.Sprintf("round%d", round), s.name))
			}
		}
	}
	if len(profiled) > 1 {
		writeCosts(t, profiled...)
	}
	rep.Finished = time.Now().UTC()
	rep.Machine.LoadEnd = loadAverage()
	for _, l := range rep.summaryLines() {
		t.Log(l)
	}
	if *benchOut != "" {
		if err := rep.write(*benchOut); err != nil {
			t.Fatal(err)
		}
	}
}

// renderReport writes the report of the run whose performance.json is
// from into out again.
func renderReport(t *testing.T, from, out string) {
	if out == "" {
		t.Fatal("-bench.render needs -bench.out")
	}
	js, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(js, &rep); err != nil {
		t.Fatalf("%s: %v", from, err)
	}
	if err := rep.write(out); err != nil {
		t.Fatal(err)
	}
	for _, l := range rep.summaryLines() {
		t.Log(l)
	}
}

// benchFuncdPath is -bench.funcd, absolute; the test fails when it is
// missing.
func benchFuncdPath(t *testing.T) string {
	path, err := filepath.Abs(*benchFuncd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%v: build it with make build", err)
	}
	return path
}

// writeCosts writes the cost table of the profiles funcd up --cpu-profile
// wrote into dirs (once funcd stopped), medians over them, and logs it; it
// writes it to costs.md in the one folder, or in -bench.profile's.
func writeCosts(t *testing.T, dirs ...string) {
	protocols := len(strings.Split(*benchProtos, ","))
	orders := protocols * (warmUpOrders + *benchOrders + int(benchRateFor.Seconds()*float64(*benchRate)))
	table, err := costTable(dirs, orders)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("CPU per hop (%s):\n%s", strings.Join(dirs, ", "), table)
	out := filepath.Join(dirs[0], "costs.md")
	if len(dirs) > 1 {
		if *benchProfile == "" {
			return
		}
		out = filepath.Join(*benchProfile, "costs.md")
	}
	if err := os.WriteFile(out, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
}

// benchStarter starts one system for a round; the subtest's cleanup stops it.
type benchStarter struct {
	name  string
	start func(t *testing.T) *benchSystem
}

// buildSeedSub builds the seed's Go subscriber (e2e/seedsub).
func buildSeedSub(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "seedsub")
	build := exec.Command("go", "build", "-o", bin, "./seedsub")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build seedsub: %v\n%s", err, out)
	}
	return bin
}
