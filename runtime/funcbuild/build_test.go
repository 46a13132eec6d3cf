package funcbuild

import (
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestBuildCache(t *testing.T) {
	skipShort(t)
	t.Setenv("CGO_ENABLED", "") // restored after the test
	os.Unsetenv("CGO_ENABLED")
	ctx := t.Context()
	cache := t.TempDir()
	b, events := newTestBuilder(t, cache)
	fn := copyEcho(t, nil)
	for range 2 {
		if err := b.Build(ctx, []Function{fn}); err != nil {
			t.Fatal(err)
		}
	}
	if len(*events) != 3 {
		t.Fatalf("got events %+v, want started, done, done", *events)
	}
	first, ok1 := (*events)[1].(BuildDone)
	second, ok2 := (*events)[2].(BuildDone)
	if _, ok := (*events)[0].(BuildStarted); !ok || !ok1 || !ok2 {
		t.Fatalf("got events %+v, want started, done, done", *events)
	}
	if first.Cached || !second.Cached || first.Binary != second.Binary {
		t.Errorf("got %+v then %+v, want a build then a cache hit of the same binary", first, second)
	}
	t.Logf("build: %v, cached build: %v", first.Took, second.Took)
	if interp, err := interpreter(first.Binary); err != nil || interp != "" {
		t.Errorf("got %v, dynamic loader %q; want a static binary (cgo off unless CGO_ENABLED is set)", err, interp)
	}
	if !exists(filepath.Join(cache, trimStamp)) {
		t.Errorf("Build did not scan the cache for unused builds (no %s)", trimStamp)
	}

	writeFile(t, filepath.Join(fn.Dir, "handle_test.go"), "package function")
	writeFile(t, filepath.Join(fn.Dir, ".func", "built"), "x")
	if err := b.Build(ctx, []Function{fn}); err != nil {
		t.Fatal(err)
	}
	if last := (*events)[len(*events)-1].(BuildDone); !last.Cached {
		t.Errorf("a test file or .func/ change rebuilt the function: %+v", last)
	}
}

// interpreter is the dynamic loader an ELF binary asks for, "" when static.
func interpreter(bin string) (string, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return "", err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			return strings.TrimRight(string(b), "\x00"), err
		}
	}
	return "", nil
}

// TestBuildEnv: what the go command is run with.
func TestBuildEnv(t *testing.T) {
	tests := []struct {
		name          string
		environ, want []string
	}{
		{"defaults", []string{"HOME=/h"}, []string{"HOME=/h", "GOFLAGS=", "GOWORK=off", "CGO_ENABLED=0"}},
		{"cgo asked for", []string{"CGO_ENABLED=1"}, []string{"CGO_ENABLED=1", "GOFLAGS=", "GOWORK=off"}},
		{"-mod dropped", []string{"GOFLAGS=-mod=vendor -trimpath"}, []string{"GOFLAGS=-mod=vendor -trimpath", "GOFLAGS=-trimpath", "GOWORK=off", "CGO_ENABLED=0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := New(Config{CacheDir: t.TempDir(), Environ: tt.environ}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := b.buildEnv(); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBuildErrorIncludesCompilerOutput(t *testing.T) {
	skipShort(t)
	b, events := newTestBuilder(t, t.TempDir())
	fn := copyEcho(t, map[string]string{"broken.go": "package function\n\nvar _ = undefinedThing\n"})
	err := b.Build(t.Context(), []Function{fn})
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") {
		t.Fatalf("got error %v, want the compiler's message", err)
	}
	if done := (*events)[len(*events)-1].(BuildDone); done.Err == nil {
		t.Errorf("got %+v, want BuildDone with the error", done)
	}
}

func TestBuildWithoutGo(t *testing.T) {
	b, err := New(Config{CacheDir: t.TempDir(), Go: "no-such-go-toolchain"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Build(t.Context(), []Function{{Name: "echo", Dir: t.TempDir()}})
	if err == nil || !strings.Contains(err.Error(), `"no-such-go-toolchain" is not on PATH: install Go 1.26 or later`) {
		t.Errorf("got %v, want it to say Go is missing and what to install", err)
	}
}

func TestBuildEachReportsEachFunction(t *testing.T) {
	skipShort(t)
	b, _ := newTestBuilder(t, t.TempDir())
	good := copyEcho(t, nil)
	broken := copyEcho(t, map[string]string{"broken.go": "package function\n\nvar _ = undefinedThing\n"})
	errs := b.BuildEach(t.Context(), []Function{broken, good})
	if len(errs) != 2 || errs[0] == nil || errs[1] != nil {
		t.Fatalf("got errors %v, want one for the broken function only", errs)
	}
	if !strings.Contains(errs[0].Error(), "undefined: undefinedThing") {
		t.Errorf("got %v, want the compiler's message", errs[0])
	}
}

// TestBinaryFollowsTheStamp: the binary an instance starts is the one its
// sources build to; the sources are hashed again only when their Stamp
// (name, mode, size, modification time of each) changes, so a cold start
// reads metadata, not contents.
func TestBinaryFollowsTheStamp(t *testing.T) {
	b, _ := newTestBuilder(t, t.TempDir())
	fn := copyEcho(t, nil)
	handle := filepath.Join(fn.Dir, "handle.go")
	binary := func() string {
		t.Helper()
		bin, err := b.Binary(t.Context(), fn)
		if err != nil {
			t.Fatal(err)
		}
		return bin
	}
	orig, err := os.ReadFile(handle)
	if err != nil {
		t.Fatal(err)
	}
	first := binary()
	if again := binary(); again != first {
		t.Fatalf("unchanged sources: got %s, then %s", first, again)
	}
	writeFile(t, handle, string(orig)+"\n// edited\n")
	edited := binary()
	if edited == first {
		t.Errorf("an edit of handle.go kept binary %s", first)
	}
	writeFile(t, handle, string(orig))
	if back := binary(); back != first {
		t.Errorf("handle.go as it was: got %s, want %s", back, first)
	}

	// The same size and modification time: the Stamp is the same, so the
	// sources are taken to be, and are not hashed again.
	fi, err := os.Stat(handle)
	if err != nil {
		t.Fatal(err)
	}
	same := []byte(string(orig))
	same[len(same)-1] = ' ' // its last newline, now a space
	writeFile(t, handle, string(same))
	if err := os.Chtimes(handle, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	if got := binary(); got != first {
		t.Errorf("same Stamp: got %s, want the remembered %s (hashed again)", got, first)
	}
	if sum, err := sourceHash(fn.Dir, b.toolchain); err != nil || strings.Contains(first, sum) {
		t.Errorf("the changed content hashes to %s (%v): the check above proves nothing", sum, err)
	}
}
