// Package resources reads Dapr resource files — Components, Subscriptions —
// from a folder of YAML, the same files daprd reads with --resources-path.
//
// It decodes strictly: an unknown field, a wrong type or a missing required
// value is an error that names the file, the resource and the field. It does
// not connect to anything; the pubsub and binding packages turn the decoded
// resources into running components and subscriptions.
package resources
