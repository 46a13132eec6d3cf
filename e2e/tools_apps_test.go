package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/multiapp"
)

// needPython returns python3's path: the example apps run on it.
func needPython(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		if testing.Short() {
			t.Skip("-short: python3 is not installed")
		}
		t.Fatal("python3 is not installed: apt-get install -y python3 (tools/deps.sh does it)")
	}
	return py
}

// copyDir copies a folder tree (small files only) to a new temporary one.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// rewrite replaces old with new in a file, which must contain old.
func rewrite(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// daprRunF runs a Multi-App Run template as `dapr run -f` does, with the
// real daprd: per app, its daprd on free ports with resources (instead of
// the template's resourcesPath: the Redis swap) and its command in its
// folder with the environment the Dapr CLI gives it. Apps with a port get
// a free one (APP_PORT) and start before their daprd, as daprd waits for
// the app's port.
func daprRunF(t *testing.T, tpl *multiapp.Template, resources string, env []string) map[string]*proc {
	t.Helper()
	bin := daprdTool.need(t)
	procs := map[string]*proc{}
	for _, app := range tpl.Apps {
		grpcPort, httpPort := freePort(t), freePort(t)
		appEnv := slices.Concat(env, []string{"APP_ID=" + app.ID, "DAPR_HTTP_PORT=" + strconv.Itoa(httpPort),
			"DAPR_GRPC_PORT=" + strconv.Itoa(grpcPort)})
		for k, v := range app.Env {
			appEnv = append(appEnv, k+"="+v)
		}
		args := []string{bin, "--app-id", app.ID, "--resources-path", resources,
			"--dapr-grpc-port", strconv.Itoa(grpcPort), "--dapr-http-port", strconv.Itoa(httpPort),
			"--dapr-internal-grpc-port", strconv.Itoa(freePort(t)), "--metrics-port", strconv.Itoa(freePort(t)),
			"--dapr-listen-addresses", "127.0.0.1", "--log-level", "info"}
		if app.Port != 0 {
			// A port picked now, not when the template was written: a
			// port left free for long (while the apps before this one
			// start) may be taken by another test's listener, which
			// daprd would take for the app.
			port := freePort(t)
			appEnv = append(appEnv, "APP_PORT="+strconv.Itoa(port))
			args = append(args, "--app-port", strconv.Itoa(port), "--app-channel-address", "127.0.0.1",
				"--app-protocol", app.Protocol)
			procs[app.ID] = startProc(t, app.ID, app.Dir, appEnv, app.Command...)
			d := startProc(t, "daprd "+app.ID, t.TempDir(), nil, args...)
			// daprd is ready once the app listens: `go run .` may compile first.
			waitHTTP(t, d, "http://"+addr(httpPort)+"/v1.0/healthz", 204, 5*time.Minute)
			continue
		}
		d := startProc(t, "daprd "+app.ID, t.TempDir(), nil, args...)
		waitHTTP(t, d, "http://"+addr(httpPort)+"/v1.0/healthz/outbound", 204, 60*time.Second)
		procs[app.ID] = startProc(t, app.ID, app.Dir, appEnv, app.Command...)
	}
	return procs
}

// linesOf returns the lines of out matching re, with prefix cut off and
// sorted (apps print concurrently).
func linesOf(out, prefix string, re *regexp.Regexp) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimPrefix(strings.TrimSpace(l), prefix)
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "|"))
		if re.MatchString(l) {
			lines = append(lines, l)
		}
	}
	slices.Sort(lines)
	return lines
}
