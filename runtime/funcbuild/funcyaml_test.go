package funcbuild

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const validYAML = `
specVersion: 0.36.0
name: order-processor
runtime: go
registry: ""
image: example.com/order-processor:latest
created: 2025-01-01T00:00:00Z
invoke: cloudevent
build:
  builder: host
run:
  envs:
  - name: MODE
    value: debug
  - name: TOKEN
    value: '{{ env:HOST_TOKEN }}'
  - value: '{{ secret:creds }}'
deploy:
  namespace: default
  annotations:
    dapr.io/enabled: "true"
  options:
    scale:
      min: 1
      max: 5
      metric: concurrency
    resources:
      limits:
        concurrency: 20
        memory: 128Mi
  subscriptions:
  - source: default
`

func TestParseFuncYAML(t *testing.T) {
	got, err := parseFuncYAML([]byte(validYAML))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := Function{
		Name:    "order-processor",
		Runtime: "go",
		Invoke:  InvokeCloudEvent,
		Envs: []Env{
			{Name: "MODE", Value: "debug"},
			{Name: "TOKEN", Value: "{{ env:HOST_TOKEN }}"},
			{Value: "{{ secret:creds }}"},
		},
		Annotations: map[string]string{"dapr.io/enabled": "true"},
		MinScale:    1,
		MaxScale:    5,
		Concurrency: 20,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseFuncYAMLDefaults(t *testing.T) {
	got, err := parseFuncYAML([]byte("name: f\nruntime: go\n"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	want := Function{Name: "f", Runtime: "go", Invoke: InvokeHTTP}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestParseFuncYAMLErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"malformed", "name: [", "yaml"},
		{"missing name", "runtime: go", "name: missing"},
		{"name uppercase", "name: Echo\nruntime: go", "name: \"Echo\" is not a DNS-1035 label"},
		{"name starts with digit", "name: 1echo\nruntime: go", "not a DNS-1035 label"},
		{"name ends with dash", "name: echo-\nruntime: go", "not a DNS-1035 label"},
		{"name too long", "name: " + strings.Repeat("a", 64) + "\nruntime: go", "not a DNS-1035 label"},
		{"runtime python", "name: f\nruntime: python", "runtime: \"python\" is not supported"},
		{"runtime missing", "name: f", "runtime: \"\" is not supported"},
		{"invoke", "name: f\nruntime: go\ninvoke: grpc", "invoke: \"grpc\""},
		{"scale min negative", "name: f\nruntime: go\ndeploy: {options: {scale: {min: -1}}}", "deploy.options.scale.min: -1 is negative"},
		{"scale max negative", "name: f\nruntime: go\ndeploy: {options: {scale: {max: -1}}}", "deploy.options.scale.max: -1 is negative"},
		{"scale min above max", "name: f\nruntime: go\ndeploy: {options: {scale: {min: 3, max: 2}}}", "deploy.options.scale.min: 3 is greater than max 2"},
		{"scale min type", "name: f\nruntime: go\ndeploy: {options: {scale: {min: lots}}}", "deploy.options.scale.min"},
		{"concurrency negative", "name: f\nruntime: go\ndeploy: {options: {resources: {limits: {concurrency: -2}}}}", "deploy.options.resources.limits.concurrency: -2 is negative"},
		{"annotations type", "name: f\nruntime: go\ndeploy: {annotations: [a]}", "deploy.annotations"},
		{"env name missing", "name: f\nruntime: go\nrun: {envs: [{value: x}]}", "run.envs[0]: name: \"\" is not a valid"},
		{"env name invalid", "name: f\nruntime: go\nrun: {envs: [{name: A, value: x}, {name: 'B C', value: x}]}", "run.envs[1]: name: \"B C\""},
		{"env unknown source", "name: f\nruntime: go\nrun: {envs: [{name: A, value: '{{ vault:x }}'}]}", "run.envs[0]: value: \"{{ vault:x }}\": unknown source \"vault\""},
		{"env bad variable", "name: f\nruntime: go\nrun: {envs: [{name: A, value: '{{ env:A-B }}'}]}", "run.envs[0]: value: \"{{ env:A-B }}\" does not name a variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFuncYAML([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDiscover(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b", FuncYAML), "name: beta\nruntime: go\n")
	writeFile(t, filepath.Join(dir, "a", FuncYAML), "name: alpha\nruntime: go\n")
	writeFile(t, filepath.Join(dir, "notes", "README.md"), "not a function")
	fns, err := Discover(dir)
	if err != nil {
		t.Fatalf("discover: %v", err)
	}
	var got []string
	for _, fn := range fns {
		got = append(got, fn.Name+"@"+fn.Dir)
	}
	want := []string{"alpha@" + filepath.Join(dir, "a"), "beta@" + filepath.Join(dir, "b")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestDiscoverErrorsNameTheFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a", FuncYAML), "name: alpha\nruntime: go\n")
	writeFile(t, filepath.Join(dir, "b", FuncYAML), "name: alpha\nruntime: go\n")
	writeFile(t, filepath.Join(dir, "c", FuncYAML), "name: gamma\nruntime: node\n")
	fns, err := Discover(dir)
	if len(fns) != 1 || fns[0].Name != "alpha" {
		t.Errorf("got functions %v, want only alpha", fns)
	}
	for _, want := range []string{
		filepath.Join(dir, "b", FuncYAML) + `: name: "alpha" is also the name of ` + filepath.Join(dir, "a", FuncYAML),
		filepath.Join(dir, "c", FuncYAML) + `: runtime: "node" is not supported`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got error %v, want one containing %q", err, want)
		}
	}
}

func TestEnviron(t *testing.T) {
	fn := Function{Dir: "/fns/echo", Envs: []Env{
		{Name: "A", Value: "literal"},
		{Name: "B", Value: "{{env:HOST_B}}"},
		{Name: "C", Value: "{{ env:HOST_C }}"},
		{Name: "D"},
	}}
	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"HOST_B": "b", "HOST_C": ""}[k]
		return v, ok
	}
	got, err := fn.Environ(lookup)
	if err != nil {
		t.Fatalf("environ: %v", err)
	}
	want := []string{"A=literal", "B=b", "C=", "D="}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestEnvironErrors(t *testing.T) {
	tests := []struct {
		name string
		env  Env
		want string
	}{
		{"unset variable", Env{Name: "A", Value: "{{ env:NOPE }}"}, `/fns/echo/func.yaml: run.envs[1].value: required local environment variable "NOPE" is not set`},
		{"secret", Env{Name: "A", Value: "{{ secret:creds:key }}"}, "run.envs[1].value: \"{{ secret:creds:key }}\": secret references are not available when running locally"},
		{"configMap", Env{Value: "{{ configMap:settings }}"}, "configMap references are not available"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fn := Function{Dir: "/fns/echo", Envs: []Env{{Name: "OK", Value: "1"}, tt.env}}
			_, err := fn.Environ(func(string) (string, bool) { return "", false })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// FuzzParseFuncYAML checks that no func.yaml makes the parser panic and that
// whatever it accepts is valid.
func FuzzParseFuncYAML(f *testing.F) {
	f.Add([]byte(validYAML))
	f.Add([]byte("name: f\nruntime: go\nrun: {envs: [{name: A, value: '{{ env:B }}'}]}"))
	f.Add([]byte("name: f\nruntime: go\nimgae: x\ndeploy: {optoins: {}, options: {scale: {mni: 1}}}\nrun: {envs: [{vaule: 1}]}"))
	f.Add([]byte("name: f\nruntime: go\nbuild: [1, {a: b}]\nrun: {volumes: [[{}]]}\ndeploy: {labels: {a: b}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fn, err := parseFuncYAML(data)
		if err != nil {
			return
		}
		for _, f := range fn.UnknownFields {
			if f == "" || strings.HasPrefix(f, ".") {
				t.Errorf("unknown field %q: want a path", f)
			}
		}
		if err := fn.validate(); err != nil {
			t.Errorf("accepted an invalid function: %v", err)
		}
	})
}
