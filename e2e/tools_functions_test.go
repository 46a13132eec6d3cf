package e2e

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funcd/funcd/runtime/funcbuild"
)

// buildFunction builds the function in dir with funcd's builder, package funcbuild (the func-go
// scaffold `func build` also generates, cached by content in the user cache)
// and returns it with its binary.
func buildFunction(t *testing.T, dir string) (funcbuild.Function, string) {
	t.Helper()
	fn, err := funcbuild.Load(dir)
	if err != nil {
		t.Fatalf("load function %s: %v", dir, err)
	}
	var bin string
	b, err := funcbuild.New(funcbuild.Config{OnBuild: func(ev funcbuild.BuildEvent) {
		if done, ok := ev.(funcbuild.BuildDone); ok && done.Err == nil {
			bin = done.Binary
		}
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	if err := b.Build(ctx, []funcbuild.Function{fn}); err != nil {
		t.Fatalf("build %s: %v", fn.Name, err)
	}
	t.Logf("built %s in %s", fn.Name, time.Since(start).Round(time.Millisecond))
	return fn, bin
}

// function is a running function binary.
type function struct {
	*proc
	url  string
	port int
}

// startFunction runs bin (built by buildFunction) on a free port with env
// and, when ready is set, waits for /health/readiness to answer 200.
func startFunction(t *testing.T, fn funcbuild.Function, bin string, ready bool, env ...string) *function {
	t.Helper()
	port := freePort(t)
	env = append(env, "LISTEN_ADDRESS="+addr(port), "FUNC_LOG_LEVEL=warn")
	for _, e := range fn.Envs {
		if e.Name != "" && !strings.Contains(e.Value, "{{") {
			env = append([]string{e.Name + "=" + e.Value}, env...)
		}
	}
	f := &function{proc: startProc(t, fn.Name, fn.Dir, env, bin), url: "http://" + addr(port), port: port}
	if ready {
		waitHTTP(t, f.proc, f.url+"/health/readiness", 200, 60*time.Second)
	}
	return f
}

// rootModule is the module path of the repository root.
const rootModule = "github.com/funcd/funcd"

// rootFunctionCopy copies the binding function at the repository root (its
// Go files, func.yaml, go.mod, go.sum and the runtime/ packages it imports)
// into a new folder with module path "function", the path func v0.44.0's
// scaffolding needs of a function that imports its own sub-packages (fixed
// upstream by knative/func PR #2769). Imports of rootModule/... become
// function/... . The checkout is not touched.
func rootFunctionCopy(t *testing.T) string {
	t.Helper()
	src, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	keep := func(rel string, d fs.DirEntry) bool {
		if d.IsDir() {
			return rel == "." || rel == "runtime" || strings.HasPrefix(rel, "runtime/") && d.Name() != "testdata"
		}
		if strings.HasSuffix(rel, "_test.go") {
			return false
		}
		if filepath.Dir(rel) == "." {
			return strings.HasSuffix(rel, ".go") || rel == "func.yaml" || rel == "go.mod" || rel == "go.sum"
		}
		return strings.HasSuffix(rel, ".go")
	}
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if !keep(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), rewriteModule(rel, data), 0o644)
	})
	if err != nil {
		t.Fatalf("copy the root function: %v", err)
	}
	return dst
}

// rewriteModule renames rootModule to "function" in go.mod and in imports.
func rewriteModule(rel string, data []byte) []byte {
	if rel == "go.mod" {
		return bytes.Replace(data, []byte("module "+rootModule+"\n"), []byte("module function\n"), 1)
	}
	if strings.HasSuffix(rel, ".go") {
		return bytes.ReplaceAll(data, []byte(`"`+rootModule+`/`), []byte(`"function/`))
	}
	return data
}
