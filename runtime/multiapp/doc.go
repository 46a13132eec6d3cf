// Package multiapp reads a Dapr Multi-App Run template (the dapr.yaml that
// `dapr run -f` runs): version 1, the keys common to every app and each
// app's own, resolved the way the Dapr CLI resolves them (paths relative to
// the template's folder, per-app values over common ones, env merged).
//
// Keys funcd does not act on are reported in Template.Warnings, never
// silently ignored. Running the apps is package apps' job; this package
// opens nothing.
package multiapp
