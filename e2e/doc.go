// Package e2e holds end-to-end tests: they build the funcd binary and run
// the real order functions on the embedded broker, as a user does with
// `make run`, and they run the real third-party tools: redis-server, daprd
// v1.16.0, the Knative func CLI v0.44.0 and the CloudEvents conformance CLI
// (build them with tools/build.sh, or run .ci/run, which does everything).
// A missing tool fails its test with the command that builds it; -short
// skips those tests. Cold, they take many minutes (the func CLI builds each
// function for three platforms); warm, a few minutes.
//
// Behind the bench build tag, make bench (bench_test.go) is the product's
// benchmark: bin/funcd up against daprd + redis-server + a Go subscriber
// (seedsub), one load generator, reported in docs/performance.md.
package e2e
