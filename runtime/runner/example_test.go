package runner_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/runner"
)

// Build a function, start it and stop it.
func Example() {
	ctx := context.Background()
	cache, err := os.MkdirTemp("", "runner-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)
	fn, err := funcbuild.Load(filepath.Join("..", "funcbuild", "testdata", "echo"))
	if err != nil {
		log.Fatal(err)
	}
	b, err := funcbuild.New(funcbuild.Config{
		CacheDir: cache,
		OnBuild: func(ev funcbuild.BuildEvent) {
			// Start builds again, from the cache: print only real builds.
			if done, ok := ev.(funcbuild.BuildDone); ok && done.Err == nil && !done.Cached {
				fmt.Println(done.Function, "built")
			}
		},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := runner.New(runner.Config{
		// The echo fixture's func.yaml reads this from the host ({{ env:... }}).
		Environ: append(os.Environ(), "RUNNER_TEST_HOST_VALUE=x"),
		Output:  io.Discard, // the function's own log lines
	}, b, slog.New(slog.DiscardHandler))
	if err != nil {
		log.Fatal(err)
	}
	if err := b.Build(ctx, []funcbuild.Function{fn}); err != nil {
		log.Fatal(err)
	}
	inst, err := r.Start(ctx, fn, map[string]string{"DAPR_GRPC_PORT": "50001"})
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Stop(context.Background())
	fmt.Println(fn.Name, "listens on a loopback URL:", strings.HasPrefix(inst.URL(), "http://127.0.0.1:"))
	// Output:
	// echo built
	// echo listens on a loopback URL: true
}
