package multiapp

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// settings are the keys one level (common, or one app) sets; nil: not set.
type settings struct {
	appID, appDirPath, appProtocol, appHealthCheckPath *string
	appPort, daprHTTPPort, daprGRPCPort                *int
	enableHealthCheck                                  *bool
	probeInterval, probeTimeout, threshold             *int
	command                                            []string
	env                                                map[string]string
	resourcesPaths                                     []string
}

// ignored are the Multi-App Run keys of the Dapr CLI (runfileconfig and
// standalone.RunConfig, v1.16) that have no effect under funcd: they tune
// daprd itself, or what funcd does its own way. daprHTTPMaxRequestSize
// and daprHTTPReadBufferSize are the CLI's names before maxBodySize and
// readBufferSize.
var ignored = map[string]string{
	"apiListenAddresses":       "the Dapr API listens on 127.0.0.1",
	"appChannelAddress":        "apps are reached on 127.0.0.1",
	"appMaxConcurrency":        "use a Subscription's maxConcurrency metadata",
	"appSSL":                   "apps are reached over plain HTTP or gRPC",
	"configFilePath":           "Dapr Configuration resources are not read",
	"daprInternalGRPCPort":     "there is no service invocation between sidecars",
	"runtimePath":              "there is no daprd",
	"maxBodySize":              "funcd's body limits apply",
	"readBufferSize":           "funcd's header limits apply",
	"daprHTTPMaxRequestSize":   "funcd's body limits apply",
	"daprHTTPReadBufferSize":   "funcd's header limits apply",
	"enableApiLogging":         "use funcd up --log-level debug",
	"enableProfiling":          "not available",
	"profilePort":              "not available",
	"logLevel":                 "use funcd up --log-level",
	"metricsPort":              "metrics are on the gateway's /metrics",
	"placementHostAddress":     "actors are not available",
	"schedulerHostAddress":     "jobs and reminders are not available",
	"unixDomainSocket":         "the Dapr API listens on TCP ports",
	"appLogDestination":        "app output is printed with its app id as prefix",
	"daprdLogDestination":      "there is no daprd",
	"containerImage":           "apps run as processes",
	"containerImagePullPolicy": "apps run as processes",
	"createService":            "apps run as processes",
}

// appOnly are the keys the Dapr CLI reads per app only (RunConfig and the
// container keys, not SharedRunConfig): in common it ignores them, and so
// does funcd, with a warning.
var appOnly = map[string]bool{
	"appID": true, "appDirPath": true, "appPort": true, "daprHTTPPort": true, "daprGRPCPort": true,
	"command": true, "appChannelAddress": true, "profilePort": true, "metricsPort": true,
	"unixDomainSocket": true, "daprInternalGRPCPort": true,
	"containerImage": true, "containerImagePullPolicy": true, "createService": true,
}

// read decodes one level's keys; where names it in errors ("common",
// "apps[0]"); warnings collects keys that do nothing here.
func (s *settings) read(raw map[string]json.RawMessage, where string, warnings *[]string) error {
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		v := raw[k]
		if string(v) == "null" {
			continue
		}
		if where == "common" && appOnly[k] {
			*warnings = append(*warnings, fmt.Sprintf("common.%s is an app key (the Dapr CLI reads it per app only); ignored", k))
			continue
		}
		var err error
		switch k {
		case "appID":
			err = str(v, &s.appID)
		case "appDirPath":
			err = str(v, &s.appDirPath)
		case "appProtocol":
			err = str(v, &s.appProtocol)
		case "appHealthCheckPath":
			err = str(v, &s.appHealthCheckPath)
		case "enableAppHealthCheck":
			var b bool
			if err = json.Unmarshal(v, &b); err == nil {
				s.enableHealthCheck = &b
			}
		case "appHealthProbeInterval":
			err = positive(v, &s.probeInterval)
		case "appHealthProbeTimeout":
			err = positive(v, &s.probeTimeout)
		case "appHealthThreshold":
			err = positive(v, &s.threshold)
		case "appPort":
			err = port(v, &s.appPort)
		case "daprHTTPPort":
			err = port(v, &s.daprHTTPPort)
		case "daprGRPCPort":
			err = port(v, &s.daprGRPCPort)
		case "command":
			err = json.Unmarshal(v, &s.command)
			if err == nil && len(s.command) > 0 && s.command[0] == "" {
				err = fmt.Errorf("the program (first item) is empty")
			}
		case "env":
			err = readEnv(v, &s.env)
		case "resourcesPath", "componentsPath":
			var p string
			if err = json.Unmarshal(v, &p); err == nil && p != "" {
				s.resourcesPaths = append(s.resourcesPaths, p)
			}
		case "resourcesPaths":
			var ps []string
			if err = json.Unmarshal(v, &ps); err == nil {
				s.resourcesPaths = append(s.resourcesPaths, ps...)
			}
		default:
			if why, ok := ignored[k]; ok {
				*warnings = append(*warnings, fmt.Sprintf("%s.%s is not supported by funcd and is ignored: %s", where, k, why))
			} else {
				*warnings = append(*warnings, fmt.Sprintf("%s.%s is not a Multi-App Run key (misspelled?); ignored", where, k))
			}
		}
		if err != nil {
			return fmt.Errorf("%s.%s: %s", where, k, plain(err))
		}
	}
	return nil
}

func plain(err error) string {
	if te, ok := err.(*json.UnmarshalTypeError); ok {
		return fmt.Sprintf("want %s, got %s", te.Type, te.Value)
	}
	return err.Error()
}

func str(v json.RawMessage, dst **string) error {
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return err
	}
	*dst = &s
	return nil
}

// port reads a port number, written as a number or a string.
func port(v json.RawMessage, dst **int) error {
	s := strings.Trim(string(v), `"`)
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%s is not a port number (1-65535)", v)
	}
	*dst = &n
	return nil
}

// positive reads a whole number >= 1, written as a number or a string.
func positive(v json.RawMessage, dst **int) error {
	n, err := strconv.Atoi(strings.Trim(string(v), `"`))
	if err != nil || n < 1 {
		return fmt.Errorf("%s is not a whole number >= 1", v)
	}
	*dst = &n
	return nil
}

// readEnv reads env values as the Dapr CLI does: strings, numbers and
// booleans in their YAML spelling.
func readEnv(v json.RawMessage, dst *map[string]string) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(v, &raw); err != nil {
		return fmt.Errorf("want a mapping of names to values")
	}
	out := make(map[string]string, len(raw))
	for k, val := range raw {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("%q is not an environment variable name", k)
		}
		var s string
		if json.Unmarshal(val, &s) == nil {
			out[k] = s
			continue
		}
		switch val[0] {
		case '{', '[':
			return fmt.Errorf("%s: want a string, number or boolean", k)
		}
		if string(val) != "null" {
			out[k] = string(val)
		}
	}
	*dst = out
	return nil
}

// resolve applies own over common and checks the result.
func resolve(base string, common, own settings) (App, error) {
	pick := func(a, b *string) string {
		if a != nil {
			return *a
		}
		if b != nil {
			return *b
		}
		return ""
	}
	pickInt := func(a, b *int) int {
		if a != nil {
			return *a
		}
		if b != nil {
			return *b
		}
		return 0
	}
	app := App{
		Protocol:        strings.ToLower(pick(own.appProtocol, common.appProtocol)),
		HealthCheckPath: pick(own.appHealthCheckPath, common.appHealthCheckPath),
		Port:            pickInt(own.appPort, nil),
		HTTPPort:        pickInt(own.daprHTTPPort, nil),
		GRPCPort:        pickInt(own.daprGRPCPort, nil),
		Command:         own.command,
		Env:             map[string]string{},
	}
	maps.Copy(app.Env, common.env)
	maps.Copy(app.Env, own.env)
	dir := pick(own.appDirPath, nil)
	if dir == "" {
		return App{}, fmt.Errorf("appDirPath: required (the app's folder, relative to the template)")
	}
	app.Dir = abs(base, dir)
	if st, err := os.Stat(app.Dir); err != nil || !st.IsDir() {
		return App{}, fmt.Errorf("appDirPath %q: %s is not a folder", dir, app.Dir)
	}
	app.ID = pick(own.appID, nil)
	if app.ID == "" {
		app.ID = filepath.Base(app.Dir) // as the Dapr CLI names an app without appID
	}
	if err := validID(app.ID); err != nil {
		return App{}, err
	}
	switch app.Protocol {
	case "":
		app.Protocol = ProtocolHTTP
	case ProtocolHTTP, ProtocolGRPC:
	default:
		return App{}, fmt.Errorf("appProtocol %q: funcd reaches apps over http or grpc", app.Protocol)
	}
	enabled := own.enableHealthCheck
	if enabled == nil {
		enabled = common.enableHealthCheck
	}
	if enabled != nil && *enabled {
		if app.HealthCheckPath == "" {
			app.HealthCheckPath = "/healthz" // daprd's default app health check path
		}
		// daprd's defaults: every 5s, 500ms each, unhealthy after 3 failures.
		app.HealthCheck = &HealthCheck{
			Interval:  time.Duration(pickInt(own.probeInterval, common.probeInterval)) * time.Second,
			Timeout:   time.Duration(pickInt(own.probeTimeout, common.probeTimeout)) * time.Millisecond,
			Threshold: pickInt(own.threshold, common.threshold),
		}
		if app.HealthCheck.Interval == 0 {
			app.HealthCheck.Interval = 5 * time.Second
		}
		if app.HealthCheck.Timeout == 0 {
			app.HealthCheck.Timeout = 500 * time.Millisecond
		}
		if app.HealthCheck.Threshold == 0 {
			app.HealthCheck.Threshold = 3
		}
	}
	if app.HealthCheckPath != "" && !strings.HasPrefix(app.HealthCheckPath, "/") {
		app.HealthCheckPath = "/" + app.HealthCheckPath
	}
	if app.HTTPPort != 0 && app.HTTPPort == app.GRPCPort {
		return App{}, fmt.Errorf("daprHTTPPort and daprGRPCPort are both %d", app.HTTPPort)
	}
	paths, err := resourcePaths(base, app.Dir, common, own)
	if err != nil {
		return App{}, err
	}
	app.ResourcesPaths = paths
	return app, nil
}

// resourcePaths picks an app's resource folders as the Dapr CLI does: its
// own (relative to its folder), else its folder's .dapr/resources when it
// exists, else common's (relative to the template). Every folder must
// exist.
func resourcePaths(base, appDir string, common, own settings) ([]string, error) {
	dirs := func(from string, ps []string) ([]string, error) {
		var out []string
		for _, p := range ps {
			d := abs(from, p)
			if !isDir(d) {
				return nil, fmt.Errorf("resourcesPath %q: %s is not a folder", p, d)
			}
			out = append(out, d)
		}
		return out, nil
	}
	if len(own.resourcesPaths) > 0 {
		return dirs(appDir, own.resourcesPaths)
	}
	commons, err := dirs(base, common.resourcesPaths)
	if err != nil {
		return nil, err
	}
	if d := filepath.Join(appDir, ".dapr", "resources"); isDir(d) {
		return []string{d}, nil
	}
	return commons, nil
}

func abs(base, p string) string {
	if strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// validID accepts the app ids daprd accepts in self-hosted mode: not empty,
// no dots (daprd refuses them), printable and short.
func validID(id string) error {
	if len(id) > 128 {
		return fmt.Errorf("appID %.20q...: longer than 128 characters", id)
	}
	for _, c := range id {
		if c == '.' || c <= ' ' || c == '/' || c == '|' || c >= 0x7f {
			return fmt.Errorf("appID %q: use letters, digits, '-' and '_'", id)
		}
	}
	return nil
}
