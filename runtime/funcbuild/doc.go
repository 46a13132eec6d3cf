// Package funcbuild loads Knative Functions and builds them into binaries.
//
// Discover finds the functions of a project (every folder holding a
// func.yaml) and Load reads one, with strict errors naming the file and the
// field. A Builder builds each function the way `func build` does: it
// generates a main package that wraps the function with
// knative.dev/func-go, beside func's own scaffolding go.mod and go.sum
// completed from the function's, in a folder of the build cache (never in
// the function's), and compiles it with the local Go toolchain. Binaries are
// cached by content, so an unchanged function is never compiled twice, and
// builds unused for TrimAfter are removed.
//
// The package is named funcbuild, not build, so that it reads apart from the
// standard library's go/build. It only makes binaries: running and
// supervising them is package runner's job, and code that starts function
// processes belongs there. Only Go functions are supported; deployed
// functions (Knative Services) are built by func, not here.
package funcbuild
