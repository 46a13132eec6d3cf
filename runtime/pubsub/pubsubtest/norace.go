package pubsubtest

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// KafkaRaces is why tests of pubsub.kafka run without the race detector:
// components-contrib v1.16.1's kafka component assigns the package-global
// sarama.Logger in every Init (dapr/components-contrib#3557), while the
// sarama goroutines of other instances read it. The adapter opens an
// instance per subscription, so every Kafka test has such a write.
const KafkaRaces = "pubsub.kafka races by design under -race: components-contrib's kafka Init assigns the global sarama.Logger while other instances' sarama goroutines read it (dapr/components-contrib#3557)"

// childEnv marks the child `go test` that RunWithoutRace starts.
const childEnv = "FUNCD_NORACE_CHILD"

// RunWithoutRace runs the calling top-level test again in a child `go test`
// without the race detector when the detector is on, failing t when the
// child fails, and reports whether it did so: the caller then returns. So a
// `go test -race ./...` (what CI runs) still runs the test, without
// flagging a race that is not ours to fix. why says which race that is.
func RunWithoutRace(t *testing.T, why string) bool {
	t.Helper()
	if !raceEnabled {
		return false
	}
	if os.Getenv(childEnv) != "" {
		t.Fatalf("the child go test still runs with -race (GOFLAGS=%q)", os.Getenv("GOFLAGS"))
	}
	t.Logf("race detector on: %s; running %s without it in a child go test", why, t.Name())
	args := []string{"test", "-count=1", "-v", "-timeout=30m", "-run", "^" + regexp.QuoteMeta(t.Name()) + "$"}
	if testing.Short() {
		args = append(args, "-short")
	}
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, goTool(), append(args, ".")...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if keep(line) {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Fatalf("%s without -race: %v\n%s", t.Name(), err, out)
	}
	return true
}

// keep selects the child's lines worth repeating: results and logs.
func keep(line string) bool {
	s := strings.TrimSpace(line)
	return strings.HasPrefix(s, "--- ") || strings.HasPrefix(s, "ok ") || logLine.MatchString(s)
}

var logLine = regexp.MustCompile(`^\w+\.go:\d+: `)

// goTool finds the go command that runs the tests.
func goTool() string {
	if goroot := os.Getenv("GOROOT"); goroot != "" {
		if p := goroot + "/bin/go"; fileExists(p) {
			return p
		}
	}
	return "go"
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
