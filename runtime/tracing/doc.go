// Package tracing records funcd's spans with the OpenTelemetry SDK: it
// builds the TracerProvider from the standard OTEL_* environment (OTLP
// export when an endpoint is set, the sampler of OTEL_TRACES_SAMPLER), keeps
// the most recent traces in a bounded in-memory Store that the gateway
// serves as JSON, and draws one trace as a terminal waterfall.
//
// It also holds the span names and attributes every hop uses, so the
// gateway, the publish API and the binding describe one order's journey in
// the same words. Packages outside funcd should use the OpenTelemetry API
// directly.
package tracing
