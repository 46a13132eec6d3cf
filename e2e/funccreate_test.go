package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFuncCreatedFunctions is what a Knative user does first: in a copy of
// the project, `func create` (the real func CLI v0.44.0) makes a
// CloudEvent function and an HTTP function in functions/, a Subscription
// in components/ routes a topic to each, and `funcd up` runs them
// unchanged, beside a function that does not compile. Each function answers
// through the gateway, published events reach them (the HTTP one as a
// structured CloudEvent), nothing is written into their folders, and the
// same folders then build with `func build --builder=host`.
func TestFuncCreatedFunctions(t *testing.T) {
	bin := funcTool.need(t)
	project := t.TempDir()
	for _, dir := range []string{"functions", "components"} {
		if err := os.CopyFS(filepath.Join(project, dir), os.DirFS(filepath.Join("..", dir))); err != nil {
			t.Fatalf("copy the project's %s: %v", dir, err)
		}
	}
	fns := filepath.Join(project, "functions")
	env := []string{"XDG_CONFIG_HOME=" + t.TempDir()}
	for _, c := range []struct{ template, name string }{{"cloudevents", "shipping"}, {"http", "web"}, {"http", "broken"}} {
		if out, err := funcCmd(t, bin, fns, env, "create", "-l", "go", "-t", c.template, c.name); err != nil {
			t.Fatalf("func create -l go -t %s %s: %v\n%s", c.template, c.name, err, out)
		}
	}
	writeTestFile(t, filepath.Join(fns, "broken", "broken.go"), "package function\n\nvar _ = notDefinedAnywhere\n")
	writeTestFile(t, filepath.Join(project, "components", "shipping.yaml"), subscriptionYAML("shipping-shipments", "shipments", "shipping"))
	writeTestFile(t, filepath.Join(project, "components", "web.yaml"), subscriptionYAML("web-pages", "pages", "web"))
	before := map[string]map[string]string{"shipping": tree(t, filepath.Join(fns, "shipping")), "web": tree(t, filepath.Join(fns, "web"))}

	start := time.Now()
	f := startFuncd(t, filepath.Join(project, "components"), t.TempDir(), nil, "--dir", project, "--idle", "1h")
	t.Logf("funcd up ready in %s", time.Since(start).Round(time.Millisecond))
	for _, want := range []string{"funcd: build of broken failed", "broken.go:3:9: undefined: notDefinedAnywhere",
		"not running, their build failed (output above): broken"} {
		if !strings.Contains(f.output(), want) {
			t.Errorf("funcd up does not say %q:\n%s", want, f.output())
		}
	}

	t.Run("cloudevents function through the gateway", func(t *testing.T) {
		code, body := post(t, f.gateway+"/shipping", "application/json", `{"parcel":1}`, map[string]string{
			"ce-specversion": "1.0", "ce-id": "ship-1", "ce-source": "/e2e", "ce-type": "com.example.shipment"})
		if code != http.StatusOK || body != `{"parcel":1}` {
			t.Errorf("got %d %q, want 200 and the template's echo of the event", code, body)
		}
	})
	t.Run("http function through the gateway", func(t *testing.T) {
		for _, c := range []struct{ method, path, want string }{
			{http.MethodGet, "/web/hello?x=1", `"GET /hello?x=1 HTTP/1.1`},
			{http.MethodPost, "/web", `"POST / HTTP/1.1`},
		} {
			req, err := http.NewRequestWithContext(t.Context(), c.method, f.gateway+c.path, strings.NewReader("hi"))
			if err != nil {
				t.Fatal(err)
			}
			code, body := do(t, req)
			if code != http.StatusOK || !strings.HasPrefix(body, c.want) {
				t.Errorf("%s %s: got %d %q, want 200 and the template's dump of the request, starting %q", c.method, c.path, code, body, c.want)
			}
		}
	})
	t.Run("published events through the subscriptions", func(t *testing.T) {
		for _, c := range []struct{ topic, data, fn, want string }{
			{"shipments", `{"parcel":42}`, "shipping", `"parcel": 42`},
			// The HTTP function gets the whole CloudEvent as its body.
			{"pages", `{"page":7}`, "web", `Content-Type: application/cloudevents+json`},
		} {
			code, body := post(t, f.gateway+"/v1.0/publish/orderpubsub/"+c.topic, "application/json", c.data, nil)
			if code != http.StatusNoContent {
				t.Fatalf("publish to %s: got %d %q, want 204", c.topic, code, body)
			}
			deadline := time.Now().Add(time.Minute)
			for !functionPrinted(f.functionOutput(), c.fn, c.want) {
				if time.Now().After(deadline) {
					t.Fatalf("%s did not print %q within a minute:\n%s\n%s", c.fn, c.want, f.functionOutput(), f.output())
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		if !functionPrinted(f.functionOutput(), "web", `\"specversion\":\"1.0\"`) || !functionPrinted(f.functionOutput(), "web", `\"page\":7`) {
			t.Errorf("web did not get the event's attributes and data in its body:\n%s", f.functionOutput())
		}
	})
	t.Run("the broken function is failed, the others are not", func(t *testing.T) {
		st := f.status(t)
		if b := st["broken"]; b.State != "failed" || !strings.Contains(b.Error, "undefined: notDefinedAnywhere") {
			t.Errorf("broken: got %+v, want failed with the compiler's output", b)
		}
		for _, name := range []string{"shipping", "web", "checkout", "order-processor"} {
			if s := st[name].State; s == "failed" || s == "" {
				t.Errorf("%s: got state %q, want it to run", name, s)
			}
		}
		code, body := post(t, f.gateway+"/broken", "text/plain", "hi", nil)
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "undefined: notDefinedAnywhere") {
			t.Errorf("POST /broken: got %d %q, want 503 with the build error", code, body)
		}
	})
	f.kill(syscall.SIGTERM)
	for name, want := range before {
		if got := tree(t, filepath.Join(fns, name)); !maps.Equal(got, want) {
			t.Errorf("funcd up changed the folder of %s: got files %v, want %v", name, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	}

	for _, name := range []string{"shipping", "web"} {
		t.Run("func build "+name, func(t *testing.T) {
			dir := filepath.Join(fns, name)
			start := time.Now()
			out, err := funcCmd(t, bin, dir, append(env, "FUNC_ENABLE_HOST_BUILDER=true", "GOWORK=off"),
				"build", "--builder=host", "--registry", "localhost:5000/funcd")
			if err != nil {
				t.Fatalf("func build: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, ".func", "builds", "last", "oci", "index.json")); err != nil {
				t.Fatalf("func build wrote no OCI layout: %v\n%s", err, out)
			}
			t.Logf("func build --builder=host: %s", time.Since(start).Round(time.Second))
		})
	}
}

// subscriptionYAML routes topic of orderpubsub to fn.
func subscriptionYAML(name, topic, fn string) string {
	return "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: " + name +
		"\nspec:\n  pubsubname: orderpubsub\n  topic: " + topic + "\n  routes:\n    default: /" + fn + "\n"
}

// functionPrinted reports whether a line fn printed (funcd up's "fn | ..."
// output) contains s.
func functionPrinted(out, fn, s string) bool {
	line := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(fn) + ` +\| .*` + regexp.QuoteMeta(s))
	return line.MatchString(out)
}

// tree maps every file and folder under dir to a digest of its content.
func tree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		data, err := os.ReadFile(path)
		sum := sha256.Sum256(data)
		out[rel] = hex.EncodeToString(sum[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// do sends req and returns the status and body.
func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}
