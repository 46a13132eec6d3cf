package funcbuild

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
)

func TestScaffoldFiles(t *testing.T) {
	tests := []struct {
		sig  signature
		name string
	}{
		{signature{Invoke: InvokeCloudEvent}, "static-cloudevents"},
		{signature{Instanced: true, Invoke: InvokeCloudEvent}, "instanced-cloudevents"},
		{signature{Invoke: InvokeHTTP}, "static-http"},
		{signature{Invoke: InvokeHTTP, LegacyHTTP: true}, "static-http"},
		{signature{Instanced: true, Invoke: InvokeHTTP}, "instanced-http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sig.name(); got != tt.name {
				t.Fatalf("got scaffolding %q, want %q", got, tt.name)
			}
			goMod, goSum, err := scaffoldFiles(tt.sig)
			if err != nil {
				t.Fatal(err)
			}
			f, err := modfile.Parse("go.mod", goMod, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !requires(f, "knative.dev/func-go") || !requires(f, functionModule) {
				t.Errorf("go.mod does not require knative.dev/func-go and the function:\n%s", goMod)
			}
			if !strings.Contains(string(goSum), "knative.dev/func-go v0.21.3 h1:") {
				t.Errorf("go.sum has no checksum of knative.dev/func-go v0.21.3:\n%s", goSum)
			}
		})
	}
}

func requires(f *modfile.File, path string) bool {
	for _, r := range f.Require {
		if r.Mod.Path == path {
			return true
		}
	}
	return false
}

// baseMod stands in for func's scaffolding go.mod.
const baseMod = `module s

replace function => ./f

go 1.21

require (
	function v0.0.0-00010101000000-000000000000
	knative.dev/func-go v0.21.3
)
`

func TestScaffoldGoMod(t *testing.T) {
	tests := []struct {
		name    string
		gomod   string
		want    []string // lines the generated go.mod has
		notWant []string
	}{
		{
			name:    "as func create writes it",
			gomod:   "module function\n\ngo 1.21\n",
			want:    []string{"module s\n", "go 1.21\n", "function => FNDIR\n", "knative.dev/func-go v0.21.3\n"},
			notWant: []string{"./f"},
		},
		{
			name:  "newer go version",
			gomod: "module function\n\ngo 1.26.0\n\ntoolchain go1.26.8\n",
			want:  []string{"go 1.26.0\n"},
			// the toolchain line is the function module's own business
			notWant: []string{"toolchain", "go 1.21\n"},
		},
		{
			name:  "older go version",
			gomod: "module function\n\ngo 1.20\n",
			want:  []string{"go 1.21\n"},
		},
		{
			name: "the function's replace directives",
			gomod: `module function

go 1.25.0

require knative.dev/func-go v0.22.0

replace example.com/lib => ../lib

replace example.com/abs => /opt/abs

replace example.com/pinned v1.0.0 => example.com/fork v1.0.1

replace function => ./elsewhere
`,
			want: []string{
				"function => FNDIR\n",
				"example.com/lib => PARENT/lib\n",
				"example.com/abs => /opt/abs\n",
				"example.com/pinned v1.0.0 => example.com/fork v1.0.1\n",
			},
			notWant: []string{"elsewhere"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "go.mod"), tt.gomod)
			got, err := scaffoldGoMod([]byte(baseMod), dir)
			if err != nil {
				t.Fatal(err)
			}
			r := strings.NewReplacer("FNDIR", dir, "PARENT", filepath.Dir(dir))
			for _, w := range tt.want {
				if w = r.Replace(w); !strings.Contains(string(got), w) {
					t.Errorf("go.mod lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(string(got), w) {
					t.Errorf("go.mod has %q:\n%s", w, got)
				}
			}
		})
	}
}

func TestScaffoldGoModErrors(t *testing.T) {
	tests := []struct {
		name, gomod string
		want        string
		wantErr     error
	}{
		{name: "module path", gomod: "module example.com/fn\ngo 1.25\n", want: "go.mod", wantErr: ErrModulePath},
		{name: "malformed", gomod: "module function\nrequire (\n", want: "go.mod"},
		{name: "no go.mod", want: "go.mod", wantErr: os.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.gomod != "" {
				writeFile(t, filepath.Join(dir, "go.mod"), tt.gomod)
			}
			_, err := scaffoldGoMod([]byte(baseMod), dir)
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tt.want)) {
				t.Errorf("got error %v, want one naming %s", err, filepath.Join(dir, tt.want))
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestScaffoldGoSum(t *testing.T) {
	const base = "a v1.0.0 h1:a=\na v1.0.0/go.mod h1:am=\n"
	tests := []struct {
		name string
		own  *string // the function's go.sum; nil: none
		want string
	}{
		{name: "no go.sum", want: base},
		{name: "empty go.sum", own: ptr(""), want: base},
		{name: "other modules", own: ptr("b v1.0.0 h1:b=\n"), want: base + "b v1.0.0 h1:b=\n"},
		{name: "overlapping", own: ptr("a v1.0.0 h1:a=\n\nb v1.0.0 h1:b=\n"), want: base + "b v1.0.0 h1:b=\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.own != nil {
				writeFile(t, filepath.Join(dir, "go.sum"), *tt.own)
			}
			got, err := scaffoldGoSum([]byte(base), dir)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got go.sum\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestWriteScaffold(t *testing.T) {
	fn, err := Load(filepath.Join("testdata", "echo"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := writeScaffold(dir, fn); err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(fn.Dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range append(strings.Split(strings.TrimSpace(string(sum)), "\n"), "knative.dev/func-go v0.21.3 h1:") {
		if !strings.Contains(string(got), line) {
			t.Errorf("go.sum lacks %q", line)
		}
	}
	mainGo, err := os.ReadFile(filepath.Join(dir, "main.go"))
	if err != nil || !strings.Contains(string(mainGo), "cloudevents.DefaultHandler{Handler: f.Handle}") {
		t.Errorf("got main.go %s (err %v), want a static CloudEvents main", mainGo, err)
	}
	goMod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil || !strings.Contains(string(goMod), "function => "+fn.Dir+"\n") {
		t.Errorf("got go.mod %s (err %v), want the function replaced by its folder", goMod, err)
	}
}
