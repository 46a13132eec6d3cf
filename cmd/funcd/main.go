// Command funcd runs Knative Functions and binds Dapr pub/sub topics to them.
//
// On a laptop it is the whole platform in one process: an embedded durable
// broker, a Dapr-compatible publish API, the functions built and started
// from their func.yaml, and a gateway that accepts CloudEvents.
//
//	funcd up            start the platform for the project in this folder
//	funcd invoke NAME   send a CloudEvent to a function
//	funcd publish       publish an event to a pub/sub topic
//	funcd status        show the functions of a running funcd up
//	funcd traces        list the recent traces of a running funcd up
//	funcd trace ID      draw one trace as a waterfall
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes scripts can rely on.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed
	exitUsage   = 2 // bad flags or arguments
)

// errUsage marks errors in the command line.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"up", "start the local platform: broker, functions, binding, gateway", runUp},
	{"invoke", "send a CloudEvent to a function through the gateway", runInvoke},
	{"publish", "publish an event to a topic through the Dapr publish API", runPublish},
	{"status", "show each function's state, instances, cold starts and counters", runStatus},
	{"traces", "list the most recent traces (root, functions, duration, outcome)", runTraces},
	{"trace", "draw one trace as a waterfall: every hop, attempt and outcome", runTrace},
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		}
		fmt.Fprintf(stderr, "funcd %s: %v\n", c.name, err)
		return exitFailure
	}
	fmt.Fprintf(stderr, "funcd: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "funcd runs Knative Functions and binds Dapr pub/sub topics to them.")
	fmt.Fprintln(w, "\nUsage: funcd <command> [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'funcd <command> -h' for a command's flags and examples.")
}
