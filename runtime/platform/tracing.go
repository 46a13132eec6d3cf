package platform

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/gateway"
	"github.com/funcd/funcd/runtime/tracing"
)

// startTracing makes the TracerProvider of funcd's spans from the
// standard OTEL_* variables of Config.Environ: it always keeps recent
// traces in memory for the gateway, and exports to OTLP when an endpoint
// is set. Functions inherit the same variables.
func (p *Platform) startTracing(ctx context.Context) error {
	cfg := tracing.ConfigFromEnv(p.cfg.lookup)
	if cfg.Disabled {
		return nil
	}
	tp, err := tracing.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	p.tracing = tp
	return nil
}

// tracerProvider is nil when tracing did not start, so hops record nothing.
func (p *Platform) tracerProvider() trace.TracerProvider {
	if p.tracing == nil {
		return nil
	}
	return p.tracing
}

// traces serves the in-memory traces on the gateway, when there are any.
func (p *Platform) traces() gateway.Traces {
	if p.tracing == nil {
		return nil
	}
	return p.tracing.Store
}

// stopTracing exports the spans still buffered.
func (p *Platform) stopTracing(ctx context.Context) error {
	if p.tracing == nil {
		return nil
	}
	if err := p.tracing.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	return nil
}
