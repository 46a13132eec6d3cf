// Package functions holds no code of its own: each sub-folder is a
// standalone Knative Function module that `func build` and `func deploy`
// build from that folder alone, so the functions cannot import a shared
// package. The test in this folder holds their copies of the order event to
// one schema instead.
package functions
