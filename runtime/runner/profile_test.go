package runner

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// TestCPUProfile: with Config.CPUProfileDir, a function process writes a
// CPU profile of its life, named after the function and its pid, when it
// stops.
func TestCPUProfile(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	b, err := funcbuild.New(funcbuild.Config{CacheDir: t.TempDir()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Environ: append(os.Environ(), "RUNNER_TEST_HOST_VALUE=x"), Output: &syncBuffer{}, CPUProfileDir: dir},
		b, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	fn, err := funcbuild.Load(filepath.Join(testdata, "echo"))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Build(t.Context(), []funcbuild.Function{fn}); err != nil {
		t.Fatal(err)
	}
	inst, err := r.Start(t.Context(), fn, nil)
	if err != nil {
		t.Fatal(err)
	}
	pid := inst.PID()
	sendEvent(t, inst.URL(), "test.ping", "hello")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := inst.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, fn.Name+"-"+strconv.Itoa(pid)+".pprof")
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("no profile after the function stopped: %v", err)
	}
	defer f.Close()
	if _, err := profile.Parse(f); err != nil {
		t.Errorf("%s is not a pprof profile: %v", path, err)
	}
}
