// Package runner builds Knative Functions and runs them as local processes.
//
// It is the process manager of funcd's local platform. Discover finds the
// functions of a project (every folder holding a func.yaml), and a Runner
// builds each one the way `func build` does: it generates a main package that
// wraps the function with knative.dev/func-go, beside func's own scaffolding
// go.mod and go.sum completed from the function's, in a folder of the build
// cache (never in the function's), and compiles it with the local Go
// toolchain. Binaries are cached by content, so an unchanged function is
// never compiled twice.
//
// Runner.Start launches a binary on a free loopback port, waits until its
// /health/readiness endpoint answers 200 and returns a supervised Instance:
// a crashed process is restarted with capped exponential backoff, and
// Instance.Stop ends the whole process group. Output of every process is
// written line by line to one shared writer, each line prefixed with the
// function's name.
//
// Only Go functions are supported. Packages that route events to functions
// (the binding, the activator) use this package through Runner and Instance;
// they should not start function processes themselves. Deployed functions
// (Knative Services) are not managed here.
package runner
