package funcbuild

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestUnknownFields: keys func v0.44.0 does not know are reported with
// their path, at any depth; known keys, maps of anything (annotations) and
// the shipped functions' func.yaml files report none.
func TestUnknownFields(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{name: "all known", yaml: validYAML},
		{name: "top level", yaml: "name: f\nruntime: go\nimgae: x\n", want: []string{"imgae"}},
		{name: "nested", yaml: "name: f\nruntime: go\ndeploy:\n  optoins: {scale: {min: 1}}\n  options: {scale: {mni: 1}}\n",
			want: []string{"deploy.options.scale.mni", "deploy.optoins"}},
		{name: "in a list", yaml: "name: f\nruntime: go\nrun:\n  envs:\n  - {name: A, vaule: b}\n", want: []string{"run.envs[0].vaule"}},
		{name: "annotations are free", yaml: "name: f\nruntime: go\ndeploy: {annotations: {anything.example/key: v}}\n"},
		{name: "not YAML", yaml: "name: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unknownFields([]byte(tt.yaml)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	shipped, _ := filepath.Glob(filepath.Join("..", "..", "functions", "*", FuncYAML))
	shipped = append(shipped, filepath.Join("..", "..", FuncYAML), filepath.Join("testdata", "echo", FuncYAML))
	for _, p := range shipped {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := unknownFields(data); len(got) > 0 {
			t.Errorf("%s: got unknown fields %q, want none", p, got)
		}
	}
}

// TestLoadFuncYAMLTooLarge: a func.yaml over MaxFuncYAMLBytes is refused
// before it is decoded, naming the file.
func TestLoadFuncYAMLTooLarge(t *testing.T) {
	dir := t.TempDir()
	big := "name: f\nruntime: go\n# " + strings.Repeat("x", MaxFuncYAMLBytes) + "\n"
	if err := os.WriteFile(filepath.Join(dir, FuncYAML), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "larger than 256 KiB") || !strings.Contains(err.Error(), FuncYAML) {
		t.Errorf("got %v, want an error naming the file and the limit", err)
	}
	if err := os.WriteFile(filepath.Join(dir, FuncYAML), []byte("name: f\nruntime: go\nunknwon: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fn, err := Load(dir)
	if err != nil || !reflect.DeepEqual(fn.UnknownFields, []string{"unknwon"}) {
		t.Errorf("got %+v, %v, want unknwon reported", fn.UnknownFields, err)
	}
}
