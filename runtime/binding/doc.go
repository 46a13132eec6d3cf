// Package binding turns Dapr pub/sub messages into HTTP CloudEvents sent to
// functions, and decides once, in one place, what each answer means.
//
// A Binding subscribes to every Subscription resource it is given, decodes
// each message's Dapr envelope, picks the target function from the route,
// POSTs the event in binary mode, and settles the message by the outcome
// table (see Outcome): acknowledge on 2xx, dead-letter permanent failures,
// retry transient ones with exponential backoff and jitter, then dead-letter
// or hand the message back to the broker. A message is acknowledged only
// after its outcome is durable, so delivery is at-least-once.
//
// The binding does not start functions; a Target gives it a ready endpoint.
package binding
