package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/multiapp"
)

// appsProject writes a project folder for `funcd up --dir`: a dapr.yaml
// with common resourcesPath ./components and apps (the YAML list of apps),
// and in components/ orderpubsub on the embedded broker with metadata
// (name: value) plus extra resources (file name: content). It returns the
// folder.
func appsProject(t *testing.T, apps string, metadata, extra map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, multiapp.FileName), "version: 1\ncommon:\n  resourcesPath: ./components\napps:\n"+apps)
	var md strings.Builder
	if len(metadata) > 0 {
		md.WriteString("  metadata:\n")
	}
	for _, k := range slices.Sorted(mapsKeys(metadata)) {
		fmt.Fprintf(&md, "  - name: %s\n    value: %q\n", k, metadata[k])
	}
	writeFile(t, filepath.Join(dir, "components", "pubsub.yaml"), `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: orderpubsub
spec:
  type: pubsub.jetstream
  version: v1
`+md.String())
	for name, doc := range extra {
		writeFile(t, filepath.Join(dir, "components", name), doc)
	}
	return dir
}

// parallel is the JetStream metadata bulk subscriptions need: messages
// handed over in parallel, so batches fill.
var parallel = map[string]string{"concurrency": "parallel"}

// serveHTTPApp serves h on a free loopback port until the test ends and
// returns the port.
func serveHTTPApp(t *testing.T, h http.HandlerFunc) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// answeredBySidecarCalls answers what daprd and funcd ask every app, the
// readiness probe and GET /dapr/subscribe (with subscriptions), and reports
// whether it did.
func answeredBySidecarCalls(w http.ResponseWriter, r *http.Request, subscriptions string) bool {
	switch r.URL.Path {
	case "/health/readiness":
		return true
	case "/dapr/subscribe":
		io.WriteString(w, subscriptions)
		return true
	}
	return false
}
