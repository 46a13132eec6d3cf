package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The real Knative func CLI v0.44.0 (built by tools/build.sh) against our
// functions, with no Docker, cluster or registry:
//
//	func build --builder=host   (FUNC_ENABLE_HOST_BUILDER=true; an OCI layout in .func/builds)
//	func run --container=false  (the host runner)
//	func invoke                 (a binary CloudEvent to the running instance)
//
// Workarounds for v0.44.0, applied here and nowhere else:
//   - GOFLAGS=-mod=mod: func's generated go.mod lists only func-go, so the
//     function's other dependencies must be resolvable.
//   - the root binding function imports its own sub-packages, which v0.44.0
//     only builds when the module path is "function" (fixed upstream by
//     knative/func PR #2769): the test builds a copy with the module path and
//     imports rewritten (rootFunctionCopy). The checkout is never modified.
//   - the host runner passes the function only PORT and PWD (knative/func
//     #2460), so checkout cannot be told its sidecar's port under `func run`
//     and dials Dapr's default, 127.0.0.1:50001; `func run` waits for
//     readiness, which checkout reports only once connected. The test serves
//     our publish API (runtime/sidecar) on 127.0.0.1:50001 for it: the one
//     fixed port in the tests, imposed by func; the subtest fails with a
//     clear message when something else holds it. (funcd up and our runner
//     pass the environment.)
//
// Each function is built in a temporary copy, so .func/ is never written
// into the checkout. `func run` prefers 127.0.0.1:8080 and takes a free port
// when 8080 is busy; the test holds 8080 itself (when it can) so no fixed
// port is used, and reads the port from "Running on host port N".

var runningPort = regexp.MustCompile(`Running on host port (\d+)`)

// funcEnv is the environment every func command runs with.
func funcEnv(t *testing.T) []string {
	return []string{
		"XDG_CONFIG_HOME=" + t.TempDir(),
		"FUNC_ENABLE_HOST_BUILDER=true",
		"GOFLAGS=-mod=mod -buildvcs=false",
		"GOWORK=off",
	}
}

// copyFunction copies a function folder (without .func/) to a temp dir.
func copyFunction(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatalf("copy %s: %v", src, err)
	}
	_ = os.RemoveAll(filepath.Join(dst, ".func"))
	return dst
}

// funcCmd runs the func CLI in dir and returns its combined output.
func funcCmd(t *testing.T, bin, dir string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// holdPort8080 keeps func run off 8080 for the test, if 8080 is free.
func holdPort8080(t *testing.T) {
	if l, err := net.Listen("tcp", "127.0.0.1:8080"); err == nil {
		t.Cleanup(func() { l.Close() })
	}
}

func TestFuncCLI(t *testing.T) {
	bin := funcTool.need(t)
	holdPort8080(t)
	tests := []struct {
		name, dir string
		run       bool
		sidecar   bool // needs a Dapr publish API on 127.0.0.1:50001
		data      string
		want      *regexp.Regexp // in func invoke's output
		wantErr   bool           // func invoke exits non-zero on a non-2xx answer
	}{
		{name: "order-processor", dir: "../functions/order-processor", run: true,
			data: `{"orderId":7,"customerName":"Func","amount":7.5,"status":"Pending"}`, want: regexp.MustCompile(`.*`)},
		{name: "checkout", dir: "../functions/checkout", run: true, sidecar: true,
			data: `{"orderId":8,"customerName":"Func","amount":8}`,
			want: regexp.MustCompile(`com\.example\.order\.accepted`)},
		{name: "binding (module path rewritten)", dir: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := ""
			if tt.dir == "" {
				dir = rootFunctionCopy(t)
			} else {
				dir = copyFunction(t, tt.dir)
			}
			env := funcEnv(t)
			start := time.Now()
			out, err := funcCmd(t, bin, dir, env, "build", "--builder=host", "--registry", "localhost:5000/funcd", "-v")
			if err != nil {
				t.Fatalf("func build: %v\n%s", err, out)
			}
			if _, err := os.Stat(filepath.Join(dir, ".func", "builds", "last", "oci", "index.json")); err != nil {
				t.Fatalf("func build wrote no OCI layout: %v\n%s", err, out)
			}
			t.Logf("func build: %s", time.Since(start).Round(time.Millisecond))
			if !tt.run {
				return
			}
			if tt.sidecar {
				sc := startSidecarAt(t, "checkout", "127.0.0.1:50001")
				t.Cleanup(func() {
					if n := len(sc.rec.requests()); n != 1 {
						t.Errorf("checkout published %d orders through the sidecar, want 1", n)
					}
				})
			}
			start = time.Now()
			run := startProc(t, "func run "+tt.name, dir, env, bin, "run", "--container=false", "--build=false", "-v")
			port := run.waitLine(t, runningPort, 2*time.Minute)[1]
			waitHTTP(t, run, "http://127.0.0.1:"+port+"/health/liveness", 200, time.Minute)
			t.Logf("func run: listening on %s after %s", port, time.Since(start).Round(time.Millisecond))
			out, err = funcCmd(t, bin, dir, env, "invoke", "--data", tt.data,
				"--type", "com.example.order", "--source", "/e2e/func", "--content-type", "application/json")
			if (err != nil) != tt.wantErr || !tt.want.MatchString(out) {
				t.Errorf("func invoke: got error %v and output\n%s\nwant error %v and output matching %q", err, out, tt.wantErr, tt.want)
			}
			if tt.name == "order-processor" {
				run.waitLine(t, regexp.MustCompile(`Subscriber received: orderId=7,`), 10*time.Second)
			}
			t.Logf("func invoke answered: %s", strings.TrimSpace(out))
		})
	}
}
