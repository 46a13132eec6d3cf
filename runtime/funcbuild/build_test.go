package funcbuild

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildCache(t *testing.T) {
	skipShort(t)
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
