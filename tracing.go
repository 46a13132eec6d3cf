package function

import (
	"context"
	"fmt"
	"os"

	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/tracing"
)

// newTracing records the binding's spans (each delivery and attempt) with
// the OpenTelemetry SDK, exported to the OTLP endpoint of the standard
// OTEL_* environment, so they join the trace daprd and the functions
// continue. OTEL_SDK_DISABLED=true records none.
func newTracing(ctx context.Context) (*tracing.Provider, error) {
	cfg := tracing.ConfigFromEnv(os.LookupEnv)
	if cfg.Disabled {
		return nil, nil
	}
	cfg.ServiceName = "funcd-binding"
	tp, err := tracing.New(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("binding tracing: %w", err)
	}
	return tp, nil
}

// tracerProvider is nil without tracing, so the binding records nothing.
func (r *running) tracerProvider() trace.TracerProvider {
	if r.tracing == nil {
		return nil
	}
	return r.tracing
}
