// Package pubsub is the port between the binding and a message broker: a
// small interface to publish, subscribe with an ack/nack outcome, and close.
//
// Messages carry what daprd hands a pub/sub component: the encoded CloudEvent
// envelope (or a raw payload) and metadata. Adapters live in sub-packages:
// embedded loads Dapr's own components-contrib components in-process from
// Component YAML. Nothing here knows about functions or HTTP.
package pubsub
