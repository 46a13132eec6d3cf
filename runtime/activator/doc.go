// Package activator gives functions Knative's serverless shape on one
// machine: instances start on the first request or delivery, requests wait
// in a bounded queue while an instance starts, more instances start when the
// running ones are at their concurrency limit, and idle instances stop
// (scale to zero) after a retention period. Recycle replaces a function's
// instances after its code changed, without failing requests in flight;
// Fail marks a function that cannot start (its build failed), so callers
// get the cause at once; functions may be added and removed while it runs.
//
// Callers Acquire an endpoint before each request and release it after, so
// the activator knows what is in flight. It starts processes through a
// Starter and knows nothing of how functions are built.
package activator
