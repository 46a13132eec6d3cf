package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/modfile"
)

// realTool describes a third-party tool the e2e tests run, built by
// tools/build.sh into a cache keyed by version.
type realTool struct {
	name   string // binary and tools/<name> module folder
	env    string // variable that may point at the binary
	module string // the module whose version names the cache folder
}

var (
	daprdTool       = realTool{name: "daprd", env: "DAPRD", module: "github.com/dapr/dapr"}
	funcTool        = realTool{name: "func", env: "FUNC", module: "knative.dev/func"}
	cloudeventsTool = realTool{name: "cloudevents", env: "CLOUDEVENTS", module: "github.com/cloudevents/conformance"}
)

// need returns the path of the tool's binary: $<env>, else the build
// cache. A missing tool fails the test, telling how to build it; under
// -short the test is skipped instead.
func (rt realTool) need(t testing.TB) string {
	t.Helper()
	path, err := rt.find()
	if err == nil {
		return path
	}
	if testing.Short() {
		t.Skipf("-short: %v", err)
	}
	t.Fatalf("%v\nBuild it with: tools/build.sh %s (or bash .ci/run, which builds every tool), or set %s to its path.",
		err, rt.name, rt.env)
	return ""
}

func (rt realTool) find() (string, error) {
	if p := os.Getenv(rt.env); p != "" {
		if st, err := os.Stat(p); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s=%s is not an executable file", rt.env, p)
		}
		return p, nil
	}
	version, err := rt.version()
	if err != nil {
		return "", err
	}
	p := filepath.Join(toolsCache(), rt.name+"-"+version, rt.name)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s %s is not built: %s does not exist and %s is not set", rt.name, version, p, rt.env)
	}
	return p, nil
}

// version reads the tool's version from tools/<name>/go.mod.
func (rt realTool) version() (string, error) {
	path := filepath.Join("..", "tools", rt.name, "go.mod")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	f, err := modfile.ParseLax(path, data, nil)
	if err != nil {
		return "", err
	}
	for _, r := range f.Require {
		if r.Mod.Path == rt.module {
			return r.Mod.Version, nil
		}
	}
	return "", fmt.Errorf("%s does not require %s", path, rt.module)
}

// toolsCache is where tools/build.sh caches the tools.
func toolsCache() string {
	if d := os.Getenv("FUNCD_TOOLS_CACHE"); d != "" {
		return d
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "funcd-tools")
}
