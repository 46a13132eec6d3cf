package runner

import (
	"bytes"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// testdata is the folder of funcbuild's test functions, which these tests
// build and run.
var testdata = filepath.Join("..", "funcbuild", "testdata")

// skipShort skips tests that build and run testdata/echo with the local go
// command (its first build downloads knative.dev/func-go from the proxy).
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs a real function; run without -short")
	}
}

// newTestRunner returns a Runner whose Builder builds into cacheDir.
func newTestRunner(t *testing.T, cacheDir string, out io.Writer) (*Runner, *funcbuild.Builder) {
	t.Helper()
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	b, err := funcbuild.New(funcbuild.Config{CacheDir: cacheDir}, logger)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{
		Environ:    append(os.Environ(), "RUNNER_TEST_HOST_VALUE=from-host"),
		Output:     out,
		MinBackoff: 10 * time.Millisecond,
		MaxBackoff: time.Second,
	}, b, logger)
	if err != nil {
		t.Fatal(err)
	}
	return r, b
}

// copyEcho copies testdata/echo to a temporary folder, plus extra files
// (which may replace the fixture's own).
func copyEcho(t *testing.T, extra map[string]string) funcbuild.Function {
	t.Helper()
	echo := os.DirFS(filepath.Join(testdata, "echo"))
	names, err := fs.Glob(echo, "*")
	if err != nil {
		t.Fatal(err)
	}
	files := make(map[string]string, len(names)+len(extra))
	for _, name := range names {
		data, err := fs.ReadFile(echo, name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(data)
	}
	maps.Copy(files, extra)
	dir := filepath.Join(t.TempDir(), "echo")
	writeFiles(t, dir, files)
	fn, err := funcbuild.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return fn
}

var testClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

// sendEvent posts a binary-mode CloudEvent and returns the reply's type and data.
func sendEvent(t *testing.T, url, typ, data string) (string, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Ce-Specversion", "1.0")
	req.Header.Set("Ce-Id", "1")
	req.Header.Set("Ce-Source", "runner-test")
	req.Header.Set("Ce-Type", typ)
	req.Header.Set("Content-Type", "text/plain")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatalf("send event: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("got %s %q (err %v), want 200", resp.Status, body, err)
	}
	return resp.Header.Get("Ce-Type"), string(body)
}

// eventually polls cond every 10ms until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// writeFiles writes files (name: content) into dir, making folders.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	fsys := make(fstest.MapFS, len(files))
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content), Mode: 0o644}
	}
	if err := os.CopyFS(dir, fsys); err != nil {
		t.Fatal(err)
	}
}
