//go:build tools

// Package tools pins the jaeger command (Jaeger v2: an OpenTelemetry
// Collector with Jaeger's storage and query API) in this module's go.mod;
// nothing imports it. Build with ../build.sh.
package tools

import _ "github.com/jaegertracing/jaeger/cmd/jaeger"
