// Package dapr is the pub/sub adapter that talks to a Dapr sidecar (daprd)
// with the Dapr Go SDK: it publishes with PublishEvent and subscribes with
// streaming subscriptions (SubscribeTopicEventsAlpha1), so the process
// subscribing needs no app port and no /dapr/subscribe endpoint.
//
// A PubSub is one pub/sub component of the sidecar, by name. Several share
// one SDK client, which the caller dials (see Dial) and closes. Messages
// keep the port's meaning: Data is exactly what daprd's component stored —
// the CloudEvent envelope daprd built, or the raw payload — because the
// adapter streams with rawPayload=true (see streamMetadata). A bulk publish
// (pubsub.BulkPublisher) is one call to daprd's bulk publish API, which
// hands it whole to a component that takes bulk publishes (bulk.go).
//
// The handler's nil answers SUCCESS and an error RETRY; the adapter never
// answers DROP and never sets a deadLetterTopic on the stream: retries and
// dead letters are the binding's decisions (see package subscriptions).
//
// Use the embedded adapter when no sidecar runs; use this one next to daprd
// (a Kubernetes pod with the Dapr annotations, or daprd run by hand).
package dapr
