package funcbuild

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// skipShort skips tests that build and run testdata/echo with the local go
// command (its first build downloads knative.dev/func-go from the proxy).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a real function; run without -short")
	}
}

// newTestBuilder returns a Builder on cacheDir that records build events.
func newTestBuilder(t *testing.T, cacheDir string) (*Builder, *[]BuildEvent) {
	t.Helper()
	var events []BuildEvent
	b, err := New(Config{
		CacheDir: cacheDir,
		OnBuild:  func(ev BuildEvent) { events = append(events, ev) },
	}, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	return b, &events
}

// copyEcho copies testdata/echo to a temporary folder, plus extra files.
func copyEcho(t *testing.T, extra map[string]string) Function {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "echo")
	for _, name := range []string{"func.yaml", "go.mod", "go.sum", "handle.go", "tools.go"} {
		data, err := os.ReadFile(filepath.Join("testdata", "echo", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), string(data))
	}
	for name, src := range extra {
		writeFile(t, filepath.Join(dir, name), src)
	}
	fn, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
