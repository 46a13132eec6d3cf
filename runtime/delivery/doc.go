// Package delivery sends events to functions and decides once, in one
// place, what each answer means. Every trigger uses it: topic
// subscriptions (package subscriptions), Dapr input bindings (package
// inputs) and CloudEvent batches posted to the gateway (package gateway).
//
// A Deliverer POSTs an event to a function a Target resolves, in binary
// mode (structured mode for the functions a StructuredTarget names), or
// any other Payload (a CloudEvents Batch, a Dapr app's envelope), and
// reads the answer by the outcome table (see Outcome and Classify):
// acknowledge on 2xx, dead-letter permanent failures, retry transient ones
// with backoff, and hand the message back (Requeue) when the retry budget
// is unlimited, the circuit is open or delivery is stopping. What to do
// with the outcome (dead-letter topic, reply topic, acknowledgement) is the
// caller's.
//
// Retries, per-attempt timeouts and circuit breakers follow Dapr
// Resiliency policies targeted at a component's inbound side (see
// Policies and Breaker); a Gate lets a trigger's Stop wait for the
// deliveries in flight.
package delivery
