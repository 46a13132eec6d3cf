// Package subscriptions delivers the messages of Dapr pub/sub topic
// subscriptions to functions and settles each with the broker.
//
// A Binding subscribes to every Subscription resource it is given, decodes
// each message's Dapr envelope, picks the target function with the
// subscription's routes (CEL rules evaluated as daprd evaluates them, then
// the default route), hands the event to the delivery engine (package
// delivery: binary mode, structured mode to the plain HTTP functions a
// StructuredTarget names; for bulk subscriptions to functions that accept
// them, a CloudEvents batch; Dapr's app contract for an App), and settles
// the message by the outcome (see delivery.Outcome): acknowledge on 2xx
// after publishing any reply event to the reply topic, dead-letter
// permanent failures, and once retries are spent dead-letter the message
// or hand it back to the broker. A message is acknowledged only after its
// outcome is durable, so delivery is at-least-once. In-flight deliveries
// are bounded per subscription, or one at a time in ordered mode.
//
// The package is named for what it runs, topic subscriptions, rather than
// "binding": that word already names Dapr input bindings (package inputs)
// and the CloudEvents SDK's binding package, and the delivery rules every
// trigger shares live in package delivery.
//
// The binding does not start functions; a delivery.Target gives it a ready
// endpoint.
package subscriptions
