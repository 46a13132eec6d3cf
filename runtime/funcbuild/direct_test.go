package funcbuild

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

var (
	directBench  = flag.String("direct.bench", "", "run testdata/direct's benchmarks matching this regexp (e.g. Receiver) instead of its tests: -direct.rounds rounds of -benchtime 20000x, each round running every benchmark once, in turn")
	directRounds = flag.Int("direct.rounds", 9, "rounds of -direct.bench")
)

// TestDirect runs testdata/direct's tests of direct.go, the part of a
// CloudEvent function's main package that serves Handle, in a module made
// of the scaffolding's go.mod and go.sum, as a function builds: every
// signature, served directly, answers every kind of request (valid and
// invalid events, each way a Handle ends, every method) as func-go's own
// handler does.
func TestDirect(t *testing.T) {
	dir := mainModule(t, map[string]string{
		"direct.go":      directFile,
		"direct_test.go": "testdata/direct/direct_test.go.txt",
	})
	if *directBench != "" {
		benchDirect(t, dir, *directBench, *directRounds)
		return
	}
	t.Logf("%s", goTest(t, dir, "test", "-count=1", "-v", "."))
}

// TestStart runs testdata/start's tests of start.go, the part of every
// function's main package that starts and stops it, in a module made as
// TestDirect's: functions of both func-go packages (CloudEvents and HTTP),
// started by start and by func-go's Service.Start, live the same life step
// by step, whichever way it ends.
func TestStart(t *testing.T) {
	dir := mainModule(t, map[string]string{
		"start.go":      startFile,
		"start_test.go": "testdata/start/start_test.go.txt",
	})
	t.Logf("%s", goTest(t, dir, "test", "-count=1", "-v", "."))
}

// mainModule writes files (their name in the module, then their source: a
// file of the scaffolding or of testdata) to a new module made of the
// scaffolding's go.mod and go.sum, as a function's main module is, and
// returns its folder.
func mainModule(t *testing.T, files map[string]string) string {
	dir := t.TempDir()
	files["go.mod"] = "scaffolding/static-cloudevents/go.mod.txt"
	files["go.sum"] = "scaffolding/static-cloudevents/go.sum.txt"
	for name, src := range files {
		var data []byte
		var err error
		if strings.HasPrefix(src, "testdata/") {
			data, err = os.ReadFile(src)
		} else {
			data, err = scaffolding.ReadFile(src)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// go.mod requires the function, replaced by ./f.
	if err := os.MkdirAll(filepath.Join(dir, "f"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f", "go.mod"), []byte("module function\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// goTest runs the go command with args in dir, as a function builds
// (GOFLAGS=-mod=mod), and returns its output.
func goTest(t *testing.T, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", args[0], dir, err, out)
	}
	return out
}

// benchDirect runs the benchmarks of the test binary in dir matching re,
// rounds times: every benchmark once a round, each in a process of its own,
// the order turning by one each round, so that neither a machine's drift
// (other work, CPU frequency) nor going first or last in a process favours
// one. It logs every run's line and, for each benchmark, its median ns/op
// and, round by round, the first benchmark's ns/op over its own: its rate
// relative to the first (for Receiver: to the bare net/http handler),
// median, lowest and highest.
func benchDirect(t *testing.T, dir, re string, rounds int) {
	goTest(t, dir, "test", "-c", "-o", "direct.test", ".")
	run := func(re, benchtime string) []string {
		cmd := exec.CommandContext(t.Context(), filepath.Join(dir, "direct.test"),
			"-test.run", "^$", "-test.bench", re, "-test.benchtime", benchtime, "-test.benchmem")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", re, err, out)
		}
		var lines []string
		for _, line := range strings.Split(string(out), "\n") {
			if _, _, ok := benchLine(line); ok {
				lines = append(lines, line)
			}
		}
		return lines
	}
	var names []string // as the binary orders them
	for _, line := range run(re, "1x") {
		name, _, _ := benchLine(line)
		names = append(names, name)
	}
	if len(names) == 0 {
		t.Fatalf("no benchmark matches %q", re)
	}
	nsPerOp := map[string][]float64{} // by benchmark, one per round
	for r := range rounds {
		for k := range names {
			name := names[(k+r)%len(names)]
			lines := run(exactly(name), "20000x")
			if len(lines) != 1 {
				t.Fatalf("round %d, %s: got %d results, want 1: %q", r+1, name, len(lines), lines)
			}
			_, ns, _ := benchLine(lines[0])
			t.Logf("round %d: %s", r+1, lines[0])
			nsPerOp[name] = append(nsPerOp[name], ns)
		}
	}
	base := nsPerOp[names[0]]
	t.Logf("%s: median %.0f ns/op over %d rounds", names[0], median(base), len(base))
	for _, name := range names[1:] {
		ns := nsPerOp[name]
		ratios := make([]float64, len(ns))
		for i := range ns {
			ratios[i] = base[i] / ns[i]
		}
		slices.Sort(ratios)
		t.Logf("%s: median %.0f ns/op over %d rounds; rate %.2fx %s's (%.2fx-%.2fx), round by round",
			name, median(ns), len(ns), median(ratios), names[0], ratios[0], ratios[len(ratios)-1])
	}
}

// exactly is the -test.bench pattern of the one benchmark a result line
// names (BenchmarkX/sub-2: the -2 is GOMAXPROCS).
func exactly(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// benchLine reads a benchmark result line: its name and ns/op.
func benchLine(line string) (name string, nsPerOp float64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
		return "", 0, false
	}
	for i := 2; i < len(f); i++ {
		if f[i] == "ns/op" {
			ns, err := strconv.ParseFloat(f[i-1], 64)
			return f[0], ns, err == nil
		}
	}
	return "", 0, false
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
