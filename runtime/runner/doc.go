// Package runner runs functions and Dapr apps as supervised local processes.
//
// It is the process manager of funcd's local platform. Runner.Start has the
// Runner's funcbuild.Builder build a function unless its binary is cached,
// launches the binary on a free loopback port, waits until its
// /health/readiness endpoint answers 200 and returns a supervised Instance:
// a crashed process is restarted with capped exponential backoff, and
// Instance.Stop ends the whole process group. Runner.Run does the same for
// a Command, a program run as given. Output of every process is written
// line by line to one shared writer, each line prefixed with its name.
//
// The package is named for what it does with processes: it runs them. It
// neither reads func.yaml nor compiles anything; that is package
// funcbuild's job, and code that changes how functions are built belongs
// there. Packages that route events to functions (the binding, the
// activator) use this package through Runner and Instance; they should not
// start function processes themselves. Deployed functions (Knative
// Services) are not managed here.
package runner
