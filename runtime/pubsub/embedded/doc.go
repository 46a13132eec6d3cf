// Package embedded is the pub/sub adapter that loads Dapr's own
// components-contrib pub/sub components in-process, from the same Component
// YAML daprd reads: pubsub.jetstream, pubsub.redis, pubsub.kafka and
// pubsub.in-memory.
//
// A pubsub.jetstream component without natsURL uses the embedded broker
// (package broker), which also creates the per-topic streams the component
// expects to exist. With concurrency "parallel", pubsub.jetstream
// subscriptions consume through funcd's own manually acknowledged consumer
// (parallel.go) instead of the component's, which acknowledges messages
// before they are processed. On the embedded broker, publishing and that
// consumer use in-process connections (inprocess.go): the same messages the
// component would store, without a loopback socket; a bulk publish is one
// pipelined write (batch.go). Components that take bulk publishes
// themselves (pubsub.kafka) get them whole (bulk.go).
package embedded
