// Package e2e holds end-to-end tests: they build the funcd binary and run
// the real order functions on the embedded broker, as a user does with
// `make run`. Run them with `go test ./e2e/...`; they take a minute or two
// on a cold build cache.
package e2e
