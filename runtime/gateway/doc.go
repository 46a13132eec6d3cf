// Package gateway is the runtime's one HTTP entry point on loopback:
// POST /<function> sends a CloudEvent (binary, structured or batch) to the
// function and returns its answer; the Dapr publish API is mounted beside it;
// GET / lists the functions.
package gateway
