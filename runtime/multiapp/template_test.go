package multiapp

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// project makes a folder with the given subfolders and returns the path a
// template in it would have.
func project(t *testing.T, dirs ...string) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(root, FileName)
}

func TestParseSeedTemplate(t *testing.T) {
	file := project(t, "subscription", "publisher", "components")
	tpl, err := Parse(file, []byte(`version: 1
common:
  resourcesPath: ./components/
  env:
    DEBUG: true
apps:
  - appID: order-processor-sdk
    appDirPath: ./subscription/
    appPort: 6001
    command: ["uvicorn", "app:app"]
    env:
      PORT: 6001
  - appID: checkout-sdk
    appDirPath: ./publisher/
    command: ["python", "publish.py"]
    daprHTTPPort: "3601"
`))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(file)
	want := []App{
		{ID: "order-processor-sdk", Dir: filepath.Join(root, "subscription"), Command: []string{"uvicorn", "app:app"},
			Port: 6001, Protocol: "http", Env: map[string]string{"DEBUG": "true", "PORT": "6001"},
			ResourcesPaths: []string{filepath.Join(root, "components")}},
		{ID: "checkout-sdk", Dir: filepath.Join(root, "publisher"), Command: []string{"python", "publish.py"},
			Protocol: "http", HTTPPort: 3601, Env: map[string]string{"DEBUG": "true"},
			ResourcesPaths: []string{filepath.Join(root, "components")}},
	}
	if !reflect.DeepEqual(tpl.Apps, want) {
		t.Errorf("apps:\n got %+v\nwant %+v", tpl.Apps, want)
	}
	if len(tpl.Warnings) != 0 {
		t.Errorf("warnings %q, want none", tpl.Warnings)
	}
	if got := tpl.ResourceDirs(); !reflect.DeepEqual(got, []string{filepath.Join(root, "components")}) {
		t.Errorf("ResourceDirs = %q", got)
	}
}

func TestParseWarnings(t *testing.T) {
	file := project(t, "a")
	tpl, err := Parse(file, []byte(`version: 1
extra: 1
common:
  logLevel: debug
apps:
  - appDirPath: a
    appPorrt: 3000
    appProtocol: GRPC
`))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Apps[0].ID != "a" || tpl.Apps[0].Protocol != ProtocolGRPC {
		t.Errorf("app %+v: want id a (the folder's name) and protocol grpc", tpl.Apps[0])
	}
	all := strings.Join(tpl.Warnings, "\n")
	for _, want := range []string{`key "extra"`, "common.logLevel is not supported", "apps[0].appPorrt is not a Multi-App Run key"} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings %q lack %q", all, want)
		}
	}
}

func TestParseHealthCheck(t *testing.T) {
	file := project(t, "a", "b")
	tpl, err := Parse(file, []byte(`version: 1
common:
  enableAppHealthCheck: true
apps:
  - appDirPath: a
  - appDirPath: b
    appHealthCheckPath: ready
    appHealthProbeInterval: 2
    appHealthProbeTimeout: 100
    appHealthThreshold: "1"
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := []string{tpl.Apps[0].HealthCheckPath, tpl.Apps[1].HealthCheckPath}; got[0] != "/healthz" || got[1] != "/ready" {
		t.Errorf("health check paths %q, want /healthz (daprd's default) and /ready", got)
	}
	if hc := tpl.Apps[0].HealthCheck; hc == nil || *hc != (HealthCheck{Interval: 5 * time.Second, Timeout: 500 * time.Millisecond, Threshold: 3}) {
		t.Errorf("health check %+v, want daprd's defaults", hc)
	}
	if hc := tpl.Apps[1].HealthCheck; hc == nil || *hc != (HealthCheck{Interval: 2 * time.Second, Timeout: 100 * time.Millisecond, Threshold: 1}) {
		t.Errorf("health check %+v", hc)
	}
	if len(tpl.Warnings) != 0 {
		t.Errorf("warnings %q", tpl.Warnings)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, yaml, want string }{
		{"not yaml", "version: [", "not YAML"},
		{"not a mapping", "- 1", "want a mapping"},
		{"version 2", "version: 2\napps: [{appDirPath: a}]", "only version 1"},
		{"no version", "apps: [{appDirPath: a}]", "version (missing)"},
		{"no apps", "version: 1", "want at least one app"},
		{"apps not a list", "version: 1\napps: {a: 1}", "apps"},
		{"no dir", "version: 1\napps: [{appID: x}]", "appDirPath: required"},
		{"missing dir", "version: 1\napps: [{appDirPath: nope}]", "is not a folder"},
		{"bad port", "version: 1\napps: [{appDirPath: a, appPort: 70000}]", "apps[0].appPort: 70000 is not a port"},
		{"port text", "version: 1\napps: [{appDirPath: a, appPort: abc}]", "is not a port"},
		{"command string", "version: 1\napps: [{appDirPath: a, command: python app.py}]", "apps[0].command: want []string"},
		{"empty program", "version: 1\napps: [{appDirPath: a, command: ['']}]", "the program"},
		{"protocol", "version: 1\napps: [{appDirPath: a, appProtocol: https}]", `appProtocol "https"`},
		{"dup id", "version: 1\napps: [{appDirPath: a}, {appDirPath: a}]", `appID "a" is used twice`},
		{"dotted id", "version: 1\napps: [{appDirPath: a, appID: a.b}]", `appID "a.b"`},
		{"env list", "version: 1\napps: [{appDirPath: a, env: [A]}]", "env: want a mapping"},
		{"env nested", "version: 1\napps: [{appDirPath: a, env: {A: {b: 1}}}]", "want a string"},
		{"missing resources", "version: 1\ncommon: {resourcesPath: ./nope}\napps: [{appDirPath: a}]", `resourcesPath "./nope"`},
		{"threshold zero", "version: 1\napps: [{appDirPath: a, appHealthThreshold: 0}]", "appHealthThreshold: 0 is not a whole number"},
		{"same ports", "version: 1\napps: [{appDirPath: a, daprHTTPPort: 5, daprGRPCPort: 5}]", "both 5"},
		{"too large", "version: 1\n#" + strings.Repeat("x", MaxFileBytes), "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(project(t, "a"), []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("version: 1\napps: [{appDirPath: ., appPort: 1, command: [x], env: {A: 1}}]"))
	f.Add([]byte("version: 1\ncommon: {resourcesPaths: [a, b]}\napps: [{appDirPath: .}]"))
	f.Add([]byte("a: &a [*a, *a]"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		tpl, err := Parse(filepath.Join(dir, FileName), data)
		if err == nil && len(tpl.Apps) == 0 {
			t.Fatal("a template without apps was accepted")
		}
	})
}

// cliKeys are the keys the Dapr CLI v1.16 reads from a Multi-App Run
// template (runfileconfig.RunFileConfig, standalone.RunConfig and
// SharedRunConfig), at the top, in common (and per app), and per app only.
var cliKeys = struct{ top, shared, app []string }{
	top: []string{"version", "name", "common", "apps"},
	shared: []string{"configFilePath", "appProtocol", "apiListenAddresses", "enableProfiling", "logLevel",
		"appMaxConcurrency", "placementHostAddress", "resourcesPath", "resourcesPaths", "appSSL", "maxBodySize",
		"readBufferSize", "enableAppHealthCheck", "appHealthCheckPath", "appHealthProbeInterval",
		"appHealthProbeTimeout", "appHealthThreshold", "enableApiLogging", "runtimePath", "env",
		"daprdLogDestination", "appLogDestination", "schedulerHostAddress"},
	app: []string{"appID", "appChannelAddress", "appPort", "daprHTTPPort", "daprGRPCPort", "profilePort", "command",
		"metricsPort", "unixDomainSocket", "daprInternalGRPCPort", "containerImage", "containerImagePullPolicy",
		"createService", "appDirPath"},
}

// supported are the keys funcd acts on.
var supported = map[string]bool{
	"version": true, "common": true, "apps": true, "appProtocol": true, "resourcesPath": true, "resourcesPaths": true,
	"enableAppHealthCheck": true, "appHealthCheckPath": true, "appHealthProbeInterval": true,
	"appHealthProbeTimeout": true, "appHealthThreshold": true, "env": true, "appID": true, "appPort": true,
	"daprHTTPPort": true, "daprGRPCPort": true, "command": true, "appDirPath": true,
}

// TestEveryCLIKeyIsReadOrNamed checks that each key the Dapr CLI reads is
// either acted on or named in a warning as not supported (never as a
// misspelling, never silently).
func TestEveryCLIKeyIsReadOrNamed(t *testing.T) {
	for _, k := range append(cliKeys.shared, cliKeys.app...) {
		if supported[k] {
			continue
		}
		t.Run(k, func(t *testing.T) {
			tpl, err := Parse(project(t, "a"), []byte("version: 1\napps:\n  - appDirPath: a\n    "+k+": x\n"))
			if err != nil {
				t.Fatal(err)
			}
			if w := strings.Join(tpl.Warnings, "\n"); !strings.Contains(w, "apps[0]."+k+" is not supported by funcd") {
				t.Errorf("warnings %q: want apps[0].%s named as not supported", w, k)
			}
		})
	}
	tpl, err := Parse(project(t, "a"), []byte("version: 1\nname: shop\napps: [{appDirPath: a}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(tpl.Warnings, "\n"); !strings.Contains(w, "name is not supported by funcd") {
		t.Errorf("warnings %q: want the top-level name named as not supported", w)
	}
	for k := range ignored {
		if !slices.Contains(cliKeys.shared, k) && !slices.Contains(cliKeys.app, k) &&
			k != "daprHTTPMaxRequestSize" && k != "daprHTTPReadBufferSize" {
			t.Errorf("ignored names %q, which the Dapr CLI does not read", k)
		}
	}
}

// TestParseAppKeysInCommon checks that keys the Dapr CLI reads per app only
// are ignored in common, with a warning.
func TestParseAppKeysInCommon(t *testing.T) {
	tpl, err := Parse(project(t, "a"), []byte(`version: 1
common:
  appPort: 3000
  daprHTTPPort: 3500
  command: [python3, app.py]
apps:
  - appDirPath: a
`))
	if err != nil {
		t.Fatal(err)
	}
	if a := tpl.Apps[0]; a.Port != 0 || a.HTTPPort != 0 || a.Command != nil {
		t.Errorf("app %+v: common's app keys applied", a)
	}
	w := strings.Join(tpl.Warnings, "\n")
	for _, k := range []string{"appPort", "daprHTTPPort", "command"} {
		if !strings.Contains(w, "common."+k+" is an app key") {
			t.Errorf("warnings %q lack common.%s", w, k)
		}
	}
}

// TestParseSupportedKeys sets each supported key the seed template does
// not, and checks its effect.
func TestParseSupportedKeys(t *testing.T) {
	file := project(t, "a", "b/r3", "c/.dapr/resources", "c/r3", "r1", "r2")
	tpl, err := Parse(file, []byte(`version: 1
common:
  appProtocol: grpc
  resourcesPaths: [r1, r2]
  env: {A: common, B: common}
apps:
  - appDirPath: a
    appID: first
    daprGRPCPort: 50007
    env: {B: own}
  - appDirPath: b
    appProtocol: http
    resourcesPath: r3
  - appDirPath: c
    componentsPath: r3
  - appDirPath: c
    appID: c2
    resourcesPaths: []
  - appDirPath: a
    appID: a2
`))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(file)
	r := func(ds ...string) []string {
		var out []string
		for _, d := range ds {
			out = append(out, filepath.Join(root, d))
		}
		return out
	}
	a := tpl.Apps
	checks := []struct {
		name      string
		got, want any
	}{
		{"appID", a[0].ID, "first"},
		{"daprGRPCPort", a[0].GRPCPort, 50007},
		{"common appProtocol", a[0].Protocol, ProtocolGRPC},
		{"own appProtocol", a[1].Protocol, ProtocolHTTP},
		{"env: own over common", a[0].Env, map[string]string{"A": "common", "B": "own"}},
		{"common resourcesPaths", a[0].ResourcesPaths, r("r1", "r2")},
		{"own resourcesPath over common, relative to the app's folder", a[1].ResourcesPaths, r("b/r3")},
		{"componentsPath", a[2].ResourcesPaths, r("c/r3")},
		{"the app's .dapr/resources over common", a[3].ResourcesPaths, r("c/.dapr/resources")},
		{"common without .dapr/resources", a[4].ResourcesPaths, r("r1", "r2")},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}
