// Package sidecar serves the publish half of the Dapr sidecar API for one app,
// in-process, so that a function publishing with the Dapr Go SDK (gRPC
// PublishEvent) or with curl (POST /v1.0/publish/{pubsub}/{topic}) works on a
// laptop exactly as it does next to daprd.
//
// A Sidecar turns each request into the bytes daprd v1.16.0 would hand to its
// pub/sub component: the same CloudEvent envelope (built with
// components-contrib's envelope functions), the same cloudevent.* metadata
// overrides, rawPayload and ttlInSeconds handling, and the same error codes,
// messages and status codes on both APIs. It then passes the message to the
// pub/sub port's Publisher found through Components (a bulk request to its
// BulkPublish when it has one); what the publisher does with it (an
// embedded broker, Redis, Kafka) is not this package's concern.
//
// Served:
//
//	gRPC  dapr.proto.runtime.v1.Dapr/PublishEvent, BulkPublishEventAlpha1, GetMetadata
//	HTTP  POST|PUT /v1.0/publish/{pubsub}/{topic...}
//	      POST|PUT /v1.0-alpha1/publish/bulk/{pubsub}/{topic...}
//	      GET /v1.0/healthz, GET /v1.0/healthz/outbound, GET /v1.0/metadata
//
// Everything else of the Dapr API (state, invocation, bindings, secrets,
// actors, configuration, ...) answers at once, naming the building block:
// gRPC Unimplemented; HTTP 501 with {"errorCode":"ERR_API_NOT_SUPPORTED",
// "message":...}, and a path that is no Dapr API 404 with ERR_DIRECT_INVOKE,
// as daprd answers it. Code that needs a real sidecar
// (mTLS, resiliency policies, API allow-lists, scopes) should run daprd.
//
// Tracing: the envelope's traceparent is the caller's traceparent (HTTP
// header or gRPC metadata; grpc-trace-bin is also read), normalised as daprd
// does, or a new sampled W3C trace context when the caller sent none. daprd
// with a tracing exporter would instead put a child span it created; without
// one it would leave the field empty. This package exports no spans.
package sidecar
