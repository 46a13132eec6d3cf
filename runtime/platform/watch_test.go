package platform

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/activator"
)

// echoFunction copies funcbuild's test function to dir/name, named name,
// plus extra files.
func echoFunction(t *testing.T, dir, name string, extra map[string]string) string {
	t.Helper()
	src := filepath.Join("..", "funcbuild", "testdata", "echo")
	dst := filepath.Join(dir, name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(filepath.Join(dst, "func.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	extra["func.yaml"] = strings.Replace(string(yaml), "name: echo", "name: "+name, 1)
	for file, content := range extra {
		if err := os.WriteFile(filepath.Join(dst, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestFunctionsFolderWhileRunning starts the platform with a function that
// builds, one that does not and one whose func.yaml funcd cannot run: the
// first runs, the second is failed with the compiler's output until a fix
// is saved, the third is left out until its func.yaml is fixed. A function
// folder created while it runs is built and run, a removed one stopped.
func TestFunctionsFolderWhileRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("builds real functions; run without -short")
	}
	root := t.TempDir()
	fns := filepath.Join(root, "functions")
	for _, d := range []string{fns, filepath.Join(root, "components")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	echoFunction(t, fns, "good", map[string]string{})
	broken := echoFunction(t, fns, "broken", map[string]string{"broken.go": "package function\n\nvar _ = undefinedThing\n"})
	python := echoFunction(t, fns, "python", map[string]string{})
	pythonYAML := filepath.Join(python, "func.yaml")
	goYAML, err := os.ReadFile(pythonYAML)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pythonYAML, []byte(strings.Replace(string(goYAML), "runtime: go", "runtime: python", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Start(t.Context(), Config{
		Dir: root, GatewayAddr: "127.0.0.1:0", CacheDir: filepath.Join(root, "cache"), Watch: true,
		Environ: append(os.Environ(), "RUNNER_TEST_HOST_VALUE=x"),
		Output:  io.Discard, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("Start with a function that does not build: %v, want the others started", err)
	}
	t.Cleanup(func() { _ = p.Stop(t.Context()) })

	state := func(name string) activator.Status {
		for _, st := range p.Status() {
			if st.Function == name {
				return st
			}
		}
		return activator.Status{State: "absent"}
	}
	if st := state("broken"); st.State != "failed" || !strings.Contains(st.Error, "undefined: undefinedThing") {
		t.Errorf("broken: got state %q error %q, want failed with the compiler's output", st.State, st.Error)
	}
	tests := []struct {
		step       string
		change     func()
		function   string
		wantState  string
		wantStatus int
		wantBody   string
	}{
		{step: "a function that builds", function: "good", wantState: "zero", wantStatus: http.StatusOK},
		{step: "a function that does not", function: "broken", wantState: "failed",
			wantStatus: http.StatusServiceUnavailable, wantBody: "undefined: undefinedThing"},
		{step: "its fix saved", change: func() { remove(t, filepath.Join(broken, "broken.go")) },
			function: "broken", wantState: "zero", wantStatus: http.StatusOK},
		{step: "a func.yaml funcd cannot run", function: "python", wantState: "absent", wantStatus: http.StatusNotFound},
		{step: "that func.yaml fixed", change: func() {
			if err := os.WriteFile(pythonYAML, goYAML, 0o644); err != nil {
				t.Fatal(err)
			}
		}, function: "python", wantState: "zero", wantStatus: http.StatusOK},
		{step: "a new function folder", change: func() { echoFunction(t, fns, "late", map[string]string{}) },
			function: "late", wantState: "zero", wantStatus: http.StatusOK},
		{step: "a removed function folder", change: func() { remove(t, filepath.Join(fns, "late")) },
			function: "late", wantState: "absent", wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		if tt.change != nil {
			tt.change()
		}
		deadline := time.Now().Add(2 * time.Minute)
		for state(tt.function).State != tt.wantState && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if st := state(tt.function); st.State != tt.wantState {
			t.Fatalf("%s: %s is %q (%s), want %q", tt.step, tt.function, st.State, st.Error, tt.wantState)
		}
		status, body := postEvent(t, p.GatewayURL()+"/"+tt.function)
		if status != tt.wantStatus || !strings.Contains(body, tt.wantBody) {
			t.Errorf("%s: got %d %s, want %d with %q", tt.step, status, body, tt.wantStatus, tt.wantBody)
		}
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// postEvent sends a binary CloudEvent through the gateway.
func postEvent(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"Ce-Specversion": "1.0", "Ce-Id": "1", "Ce-Source": "/test", "Ce-Type": "test.ping", "Content-Type": "text/plain"} {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var msg struct{ Error string }
	if json.Unmarshal(body, &msg) == nil && msg.Error != "" {
		return resp.StatusCode, msg.Error
	}
	return resp.StatusCode, string(body)
}
