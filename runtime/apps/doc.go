// Package apps runs the Dapr apps of a Multi-App Run template next to
// functions, playing each app's daprd: every app gets its own Dapr API
// (package sidecar: publish, healthz, metadata) on its own ports, behind a
// token handed to that app only, its command started in its folder with
// the environment daprd gives an app, and its subscriptions — programmatic
// (GET /dapr/subscribe) and declarative (Subscription resources scoped to
// it) — delivered by package subscriptions with Dapr's app contract
// (binding.App): the stored envelope POSTed to the app's route,
// SUCCESS/RETRY/DROP answers and status codes read as daprd reads them.
//
// Functions do not go through this package; package platform runs both.
package apps
