// Package platform assembles the local platform from its parts: the
// resources folder, the embedded broker, the pub/sub components, one
// Dapr-compatible publish API per function, the function runner, the binding,
// the input bindings and the gateway. It owns their lifetimes: Start brings
// them up in dependency order and Stop takes them down in reverse, draining
// deliveries first.
//
// Programs embed it through the CLI (cmd/funcd); libraries should use the
// parts directly.
package platform
