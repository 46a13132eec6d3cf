package multiapp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// FileName is the template `funcd up` looks for in the project folder.
const FileName = "dapr.yaml"

// MaxFileBytes bounds a template file; real ones are a few hundred bytes.
const MaxFileBytes = 256 << 10

// Protocols an app can be reached with.
const (
	ProtocolHTTP = "http"
	ProtocolGRPC = "grpc"
)

// Template is a parsed Multi-App Run template.
type Template struct {
	// File is the template's path; relative paths in it resolve against
	// its folder.
	File string
	Apps []App
	// Warnings name the keys that are read but have no effect here.
	Warnings []string
}

// App is one app of a template, with common values applied.
type App struct {
	ID string
	// Dir is the absolute folder the command runs in (appDirPath).
	Dir string
	// Command is the program and its arguments; empty when the app is
	// started by someone else (funcd then only plays its sidecar).
	Command []string
	// Port is the port the app listens on (appPort); 0: it receives nothing.
	Port     int
	Protocol string // ProtocolHTTP or ProtocolGRPC
	// HealthCheckPath, when set, must answer 2xx before deliveries start.
	HealthCheckPath string
	// HealthCheck, when set (enableAppHealthCheck), keeps probing the app
	// after it started: its subscriptions stop while it is unhealthy.
	HealthCheck *HealthCheck
	// HTTPPort and GRPCPort are the app's Dapr API ports; 0 picks free ones.
	HTTPPort, GRPCPort int
	// Env is added to the app's environment (common env, then its own).
	Env map[string]string
	// ResourcesPaths are absolute folders of Dapr resources for the app.
	ResourcesPaths []string
}

// HealthCheck is how an app's health is probed, as daprd probes it.
type HealthCheck struct {
	Interval  time.Duration // appHealthProbeInterval (seconds), default 5s
	Timeout   time.Duration // appHealthProbeTimeout (milliseconds), default 500ms
	Threshold int           // appHealthThreshold: failures in a row before unhealthy, default 3
}

// Load reads and parses the template at path.
func Load(path string) (*Template, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	return Parse(abs, data)
}

// document is the template as written; fields stay raw so that each key's
// type error names the key, and unknown keys can be reported.
type document struct {
	Version json.RawMessage              `json:"version"`
	Common  map[string]json.RawMessage   `json:"common"`
	Apps    []map[string]json.RawMessage `json:"apps"`
}

// Parse parses a template's content; file (absolute) names it in errors
// and anchors its relative paths.
func Parse(file string, data []byte) (*Template, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: larger than %d KiB: not a Multi-App Run template", file, MaxFileBytes>>10)
	}
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not YAML: %w", file, err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(j, &top); err != nil || top == nil {
		return nil, fmt.Errorf("%s: want a mapping with version, common and apps", file)
	}
	var doc document
	if err := strictDecode(j, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	t := &Template{File: file}
	for _, k := range slices.Sorted(maps.Keys(top)) {
		switch k {
		case "version", "common", "apps":
		case "name":
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: name is not supported by funcd and is ignored: apps are named by appID", file))
		default:
			t.Warnings = append(t.Warnings, fmt.Sprintf("%s: key %q is not part of a Multi-App Run template; ignored", file, k))
		}
	}
	if v := strings.Trim(string(doc.Version), `"`); v != "1" {
		return nil, fmt.Errorf("%s: version %s: only version 1 is known", file, cmpOr(string(doc.Version), "(missing)"))
	}
	if len(doc.Apps) == 0 {
		return nil, fmt.Errorf("%s: apps: want at least one app", file)
	}
	dir := filepath.Dir(file)
	var common settings
	if err := common.read(doc.Common, "common", &t.Warnings); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	seen := map[string]bool{}
	for i, raw := range doc.Apps {
		where := fmt.Sprintf("apps[%d]", i)
		var own settings
		if err := own.read(raw, where, &t.Warnings); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		app, err := resolve(dir, common, own)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, where, err)
		}
		if seen[app.ID] {
			return nil, fmt.Errorf("%s: %s: appID %q is used twice", file, where, app.ID)
		}
		seen[app.ID] = true
		t.Apps = append(t.Apps, app)
	}
	for i, w := range t.Warnings {
		if !strings.HasPrefix(w, file) {
			t.Warnings[i] = file + ": " + w
		}
	}
	return t, nil
}

func strictDecode(j []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(j))
	if err := d.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: want %s, got %s", te.Field, te.Type, te.Value)
		}
		return err
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ResourceDirs returns every app's resource folders, each once, in order.
func (t *Template) ResourceDirs() []string {
	var out []string
	for _, a := range t.Apps {
		for _, d := range a.ResourcesPaths {
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
	}
	return out
}
