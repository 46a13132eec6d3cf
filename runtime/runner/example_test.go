package runner_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"

	"github.com/funcd/funcd/runtime/runner"
)

// Build every function of a project, start one and stop it.
func Example() {
	ctx := context.Background()
	fns, err := runner.Discover("functions")
	if err != nil {
		log.Fatal(err)
	}
	r, err := runner.New(runner.Config{
		Output: os.Stdout,
		OnBuild: func(ev runner.BuildEvent) {
			if done, ok := ev.(runner.BuildDone); ok && done.Err == nil {
				fmt.Printf("%s built in %v (cached: %v)\n", done.Function, done.Took, done.Cached)
			}
		},
	}, slog.Default())
	if err != nil {
		log.Fatal(err)
	}
	if err := r.Build(ctx, fns); err != nil {
		log.Fatal(err)
	}
	inst, err := r.Start(ctx, fns[0], map[string]string{"DAPR_GRPC_PORT": "50001"})
	if err != nil {
		log.Fatal(err)
	}
	defer inst.Stop(context.Background())
	fmt.Println(fns[0].Name, "listens on", inst.URL())
}
