// Package binding turns Dapr pub/sub messages into HTTP CloudEvents sent to
// functions, and decides once, in one place, what each answer means.
//
// A Binding subscribes to every Subscription resource it is given, decodes
// each message's Dapr envelope, picks the target function with the
// subscription's routes (CEL rules evaluated as daprd evaluates them, then
// the default route), POSTs the event in binary mode (in structured mode to
// the plain HTTP functions a StructuredTarget names; for bulk subscriptions
// to functions that accept them, as a CloudEvents batch), and
// settles the message by the outcome table (see Outcome and Classify):
// acknowledge on 2xx after publishing any reply event to the reply topic,
// dead-letter permanent failures, retry transient ones with backoff, then
// dead-letter or hand the message back to the broker. A message is
// acknowledged only after its outcome is durable, so delivery is
// at-least-once.
//
// Retries, per-attempt timeouts and circuit breakers follow Dapr Resiliency
// policies targeted at the component's inbound side (see Policies);
// in-flight deliveries are bounded per subscription, or one at a time in
// ordered mode. Deliverer, Policy and Classify are exported so other
// triggers (package inputs) give answers the same meaning.
//
// The binding does not start functions; a Target gives it a ready endpoint.
package binding
