// Package pubsubtest is the conformance suite every pubsub.PubSub adapter
// runs, in the spirit of Watermill's pubsub/tests: publish and subscribe,
// ack and redelivery, fan-out to independent consumers, resuming a durable
// consumer, a subscription's end (Subscription.Stopped, after a cancel and
// after Close), Close, and a batch of messages.
//
// Call Run (or RunWith, for implementations that cannot keep messages by
// design) from the adapter's tests with a function that opens a fresh,
// isolated PubSub. It is test-only code: nothing outside _test.go files
// should import it.
package pubsubtest
