// Package platform assembles the local platform from its parts: the
// resources folder, the embedded broker, the pub/sub components, one
// Dapr-compatible publish API per function, the function runner, the binding,
// the input bindings and the gateway. It owns their lifetimes: Start brings
// them up in dependency order and Stop takes them down in reverse, draining
// deliveries first. A function that does not build is registered as failed
// (callers get its build error) rather than stopping the others. With
// Config.Watch it rebuilds a function whose sources change and replaces its
// instances, applies an edited func.yaml, and runs function folders added
// while it runs and stops removed ones; each
// function's publish API applies the Components' access rules (package
// access) with the function as the app.
//
// Programs embed it through the CLI (cmd/funcd); libraries should use the
// parts directly.
package platform
