package funcbuild

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var directBench = flag.String("direct.bench", "", "run testdata/direct's benchmarks matching this regexp (e.g. Receiver) instead of its tests, -benchtime 20000x -count 5")

// TestDirect runs testdata/direct's tests of direct.go, the part of a
// CloudEvent function's main package that serves Handle, in a module made
// of the scaffolding's go.mod and go.sum, as a function builds: every
// signature, served directly, answers every kind of request (valid and
// invalid events, each way a Handle ends, every method) as func-go's own
// handler does.
func TestDirect(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":         "scaffolding/static-cloudevents/go.mod.txt",
		"go.sum":         "scaffolding/static-cloudevents/go.sum.txt",
		"direct.go":      directFile,
		"direct_test.go": "testdata/direct/direct_test.go.txt",
	}
	for name, src := range files {
		var data []byte
		var err error
		if filepath.Dir(src) == "testdata/direct" {
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
	args := []string{"test", "-count=1", "-v", "."}
	if *directBench != "" {
		args = []string{"test", "-run", "^$", "-bench", *directBench, "-benchtime", "20000x", "-count", "5", "."}
	}
	cmd := exec.CommandContext(t.Context(), "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test of direct.go: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
