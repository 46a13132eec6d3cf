// Package broker runs the embedded message broker: a NATS server with
// JetStream and a file store, in-process, on a loopback port.
//
// It is the durable default behind Dapr's own pubsub.jetstream component when
// a Component leaves natsURL empty. Because that component does not create
// streams, the broker creates one stream per topic on demand (EnsureStream).
// Users who run NATS, Redis or Kafka themselves do not need this package.
package broker
