package funcbuild

import (
	"cmp"
	"os"
	"path/filepath"
	"testing"
)

func TestSourceHash(t *testing.T) {
	tests := []struct {
		name      string
		change    func(t *testing.T, dir string)
		toolchain string
		same      bool
	}{
		{"source file edited", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "handle.go"), "package function // v2")
		}, "", false},
		{"source file added", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "extra.go"), "package function") }, "", false},
		{"sub-package edited", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "pkg", "p.go"), "package pkg // v2") }, "", false},
		{"go.sum edited", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "go.sum"), "x") }, "", false},
		{"file renamed", func(t *testing.T, dir string) {
			if err := os.Rename(filepath.Join(dir, "handle.go"), filepath.Join(dir, "handler.go")); err != nil {
				t.Fatal(err)
			}
		}, "", false},
		{"toolchain changed", func(*testing.T, string) {}, "go1.27.0 linux amd64", false},
		{"test file edited", func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "handle_test.go"), "package function // v2")
		}, "", true},
		{"test file added", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, "pkg", "p_test.go"), "package pkg") }, "", true},
		{".func changed", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".func", "built-hash"), "abc") }, "", true},
		{"hidden dir changed", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref") }, "", true},
		{"editor swap file", func(t *testing.T, dir string) { writeFile(t, filepath.Join(dir, ".handle.go.swp"), "x") }, "", true},
		{"nothing", func(*testing.T, string) {}, "", true},
	}
	const toolchain = "go1.26.8 linux amd64"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "go.mod"), "module function\n")
			writeFile(t, filepath.Join(dir, "go.sum"), "")
			writeFile(t, filepath.Join(dir, "handle.go"), "package function")
			writeFile(t, filepath.Join(dir, "handle_test.go"), "package function")
			writeFile(t, filepath.Join(dir, "pkg", "p.go"), "package pkg")
			before, err := sourceHash(dir, toolchain)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)
			after, err := sourceHash(dir, cmp.Or(tt.toolchain, toolchain))
			if err != nil {
				t.Fatal(err)
			}
			if (before == after) != tt.same {
				t.Errorf("got hashes %s and %s, want same=%v", before, after, tt.same)
			}
		})
	}
}

func TestStamp(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "handle.go"), "package function")
	writeFile(t, filepath.Join(dir, "func.yaml"), "name: f")
	stamp := func() string {
		t.Helper()
		s, err := Stamp(dir)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	first := stamp()
	if stamp() != first {
		t.Fatal("Stamp differs between two calls on the same files")
	}
	// Not build inputs: no change.
	writeFile(t, filepath.Join(dir, "handle_test.go"), "package function")
	writeFile(t, filepath.Join(dir, ".func", "built"), "x")
	if stamp() != first {
		t.Error("a test file or .func/ changed the stamp")
	}
	writeFile(t, filepath.Join(dir, "handle.go"), "package function // edited")
	second := stamp()
	if second == first {
		t.Error("an edited source left the stamp as it was")
	}
	writeFile(t, filepath.Join(dir, "sub", "util.go"), "package sub")
	if stamp() == second {
		t.Error("a new source file left the stamp as it was")
	}
	if _, err := Stamp(filepath.Join(dir, "missing")); err == nil {
		t.Error("Stamp of a missing folder: got nil error")
	}
}
