package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
)

// Config is the tracing configuration read once from the environment.
type Config struct {
	// Endpoint is OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or
	// OTEL_EXPORTER_OTLP_ENDPOINT; empty exports nothing.
	Endpoint string
	// Protocol is OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
	// OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (default) or grpc.
	Protocol string
	// Exporter is OTEL_TRACES_EXPORTER: otlp (default) or none.
	Exporter string
	// ServiceName is the service.name of funcd's own spans when
	// OTEL_SERVICE_NAME does not set one (default "funcd").
	ServiceName string
	// Disabled is OTEL_SDK_DISABLED=true: funcd records no spans (the
	// trace context still travels) and keeps no traces.
	Disabled bool
	// MaxTraces and MaxSpans bound the Store (defaults DefaultMaxTraces,
	// DefaultMaxSpans).
	MaxTraces, MaxSpans int
}

// ConfigFromEnv reads Config from lookup (e.g. os.LookupEnv).
func ConfigFromEnv(lookup func(string) (string, bool)) Config {
	get := func(keys ...string) string {
		for _, k := range keys {
			if v, ok := lookup(k); ok && v != "" {
				return v
			}
		}
		return ""
	}
	return Config{
		Endpoint: get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
		Protocol: get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
		Exporter: get("OTEL_TRACES_EXPORTER"),
		Disabled: strings.EqualFold(get("OTEL_SDK_DISABLED"), "true"),
	}
}

// Validate reports settings funcd cannot export with.
func (c Config) Validate() error {
	switch c.Protocol {
	case "", "http/protobuf", "grpc":
	default:
		return fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL %q: funcd exports traces with http/protobuf or grpc", c.Protocol)
	}
	for _, e := range strings.Split(c.Exporter, ",") {
		switch strings.TrimSpace(e) {
		case "", "otlp", "none":
		default:
			return fmt.Errorf("OTEL_TRACES_EXPORTER %q: funcd exports traces with otlp (or none)", c.Exporter)
		}
	}
	return nil
}

func (c Config) exports() bool {
	return c.Endpoint != "" && !strings.Contains(c.Exporter, "none")
}

// Provider is funcd's TracerProvider with its in-memory Store.
type Provider struct {
	*sdktrace.TracerProvider
	Store   *Store
	Metrics *Metrics
}

// New returns a Provider recording every sampled span into a Store and,
// when an OTLP endpoint is configured, exporting it there. The SDK reads
// the rest of the standard environment itself (OTEL_TRACES_SAMPLER,
// OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, OTEL_EXPORTER_OTLP_HEADERS,
// timeouts...).
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	name := cfg.ServiceName
	if name == "" {
		name = "funcd"
	}
	// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES come last, so they win.
	res, err := resource.New(ctx, resource.WithAttributes(semconv.ServiceName(name)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing resource (OTEL_RESOURCE_ATTRIBUTES): %w", err)
	}
	store, metrics := NewStore(cfg.MaxTraces, cfg.MaxSpans), NewMetrics()
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res), sdktrace.WithSpanProcessor(store),
		sdktrace.WithSpanProcessor(metrics)}
	if cfg.exports() {
		exp, err := newExporter(ctx, cfg)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	return &Provider{TracerProvider: sdktrace.NewTracerProvider(opts...), Store: store, Metrics: metrics}, nil
}

func newExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if cfg.Protocol == "grpc" {
		exp, err = otlptracegrpc.New(ctx)
	} else {
		exp, err = otlptracehttp.New(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("otlp trace exporter for %s: %w", cfg.Endpoint, err)
	}
	return exp, nil
}
