// Package inputs runs Dapr input bindings — components-contrib's own
// bindings components, loaded in-process from Component YAML — and turns
// each event they read into a CloudEvent sent to a function.
//
// Deliveries go through delivery.Deliverer, so an input binding's event gets
// the same outcome table, retries, timeouts and circuit breakers as a
// pub/sub message (Dapr Resiliency policies targeted at the binding
// component's inbound side apply). Input bindings have no dead-letter topic
// and most cannot redeliver: a delivery that ends in anything but an ack is
// logged and the error handed back to the component.
//
// The target function is the Component's "route" metadata ("/checkout" ->
// checkout) or, as in Dapr, the binding's name. Supported types: Types.
package inputs
