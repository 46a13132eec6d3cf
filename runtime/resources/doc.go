// Package resources reads Dapr resource files — Components, Subscriptions and
// Resiliency policies — from a folder of YAML, the same files daprd reads
// with --resources-path.
//
// It decodes strictly: an unknown field, a wrong type or a missing required
// value is an error that names the file, the resource and the field. It does
// not connect to anything; the pubsub, binding and inputs packages turn the
// decoded resources into running components, subscriptions and triggers.
package resources
