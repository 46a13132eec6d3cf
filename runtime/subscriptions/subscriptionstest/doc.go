// Package subscriptionstest is the conformance suite for the binding on a real
// broker: the same cases, driving a real subscriptions.Binding against an
// httptest function, run on every pub/sub adapter (embedded JetStream,
// Redis, Kafka, in-memory). Where pubsubtest checks that an adapter keeps
// the port's promises, this suite checks the delivery contract end to end:
// one delivery per acknowledged message, retries until the function
// succeeds, dead letters for permanent failures, spent retry budgets and
// expired messages, raw payloads, and a thousand messages in parallel.
//
// Call Run from a test with a function that opens a fresh, isolated PubSub
// able to deliver up to Concurrency messages at once. It is test-only code:
// nothing outside _test.go files should import it.
package subscriptionstest
