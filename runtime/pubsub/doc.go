// Package pubsub is the port between the runtime and a message broker: a
// small interface to publish, subscribe with an ack/nack outcome, and close.
// It is the only publish port: the publish API (package sidecar), replies
// and dead letters all publish through it.
//
// Messages carry what daprd hands a pub/sub component: the encoded CloudEvent
// envelope (or a raw payload) and metadata. Optional capabilities are
// declared here (FeatureReporter, BulkPublisher) and found by type
// assertion; every wrapper around a Publisher implements and passes them
// on. Adapters live in sub-packages: embedded loads Dapr's own
// components-contrib components in-process from Component YAML. Nothing
// here knows about functions or HTTP.
package pubsub
