package inputs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dapr/components-contrib/bindings"
	"github.com/dapr/components-contrib/bindings/cron"
	"github.com/dapr/kit/logger"
	"go.opentelemetry.io/otel/trace"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/kitlog"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/tracing"
)

// kinds lists the input binding types this package runs.
var kinds = map[string]func(logger.Logger) bindings.InputBinding{
	"bindings.cron": cron.NewCron,
}

// Types lists the input binding component types this package runs.
func Types() []string { return []string{"bindings.cron"} }

// IsInput reports whether c is an input binding this package runs: a
// supported type whose "direction" metadata, when set, includes input.
func IsInput(c resources.Component) bool {
	if _, ok := kinds[c.Type]; !ok {
		return false
	}
	dir, ok := c.Metadata["direction"]
	return !ok || slices.Contains(strings.Split(strings.ReplaceAll(dir, " ", ""), ","), "input")
}

// Function is the function an input binding triggers: its "route" metadata
// (a path naming the function, "/checkout" -> checkout), else its name.
func Function(c resources.Component) string {
	if route := c.Metadata["route"]; route != "" {
		return resources.Function(route)
	}
	return c.Name
}

// Config configures Inputs.
type Config struct {
	// Components may hold any resources; those IsInput accepts are run.
	Components []resources.Component
	Target     delivery.Target
	// Transport sends the events, one request per attempt; nil uses a
	// pooled one made for this.
	Transport http.RoundTripper
	// Retry and Timeout are the defaults Resiliency policies override; the
	// zero values use delivery.DefaultRetryPolicy and delivery.DefaultTimeout.
	Retry      delivery.RetryPolicy
	Timeout    time.Duration
	Resiliency []resources.Resiliency
	Logger     *slog.Logger
	// TracerProvider records a span per event and per attempt; nil
	// records none.
	TracerProvider trace.TracerProvider
}

// Inputs runs a set of input bindings.
type Inputs struct {
	log       *slog.Logger
	tracer    trace.Tracer
	deliverer *delivery.Deliverer
	triggers  []*trigger

	life   context.Context
	cancel context.CancelFunc
	gate   delivery.Gate
}

// trigger is one running input binding.
type trigger struct {
	comp     resources.Component
	in       bindings.InputBinding
	function string
	policy   delivery.Policy
}

// New initialises every input binding in cfg.Components (a cron schedule
// is checked here); an error names the component's file.
func New(ctx context.Context, cfg Config) (*Inputs, error) {
	if cfg.Target == nil {
		return nil, errors.New("inputs: Target is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Retry == (delivery.RetryPolicy{}) {
		cfg.Retry = delivery.DefaultRetryPolicy
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = delivery.DefaultTimeout
	}
	in := &Inputs{log: cfg.Logger, tracer: tracing.Tracer(cfg.TracerProvider),
		deliverer: delivery.NewDeliverer(cfg.Target, cfg.Transport, cfg.Logger)}
	in.deliverer.SetTracerProvider(cfg.TracerProvider)
	policies := delivery.NewPolicies(cfg.Resiliency, delivery.Policy{Retry: cfg.Retry, Timeout: cfg.Timeout}, cfg.Logger)
	for _, c := range cfg.Components {
		if !IsInput(c) {
			continue
		}
		t, err := in.open(ctx, c, policies)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("%s: input binding %s: %w", c.File, c.Name, err), in.close())
		}
		in.triggers = append(in.triggers, t)
	}
	return in, nil
}

func (in *Inputs) open(ctx context.Context, c resources.Component, policies *delivery.Policies) (*trigger, error) {
	t := &trigger{comp: c, function: Function(c)}
	var err error
	if t.policy, err = policies.Inbound(c.Name, delivery.BindingKind, t.function); err != nil {
		return nil, err
	}
	t.in = kinds[c.Type](kitlog.New(in.log.With("binding", c.Name)))
	md := bindings.Metadata{}
	md.Name, md.Properties = c.Name, c.Metadata
	if err := t.in.Init(ctx, md); err != nil {
		return nil, fmt.Errorf("init %s: %w", c.Type, err)
	}
	return t, nil
}

// Start starts reading every input binding; events flow until Stop.
func (in *Inputs) Start(ctx context.Context) error {
	in.life, in.cancel = context.WithCancel(context.WithoutCancel(ctx))
	for _, t := range in.triggers {
		if err := t.in.Read(in.life, in.handler(t)); err != nil {
			return fmt.Errorf("input binding %s: %w", t.comp.Name, err)
		}
		in.log.Info("input binding started", "binding", t.comp.Name, "type", t.comp.Type, "function", t.function)
	}
	return nil
}

// Stop closes the bindings (no new events) and waits for deliveries in
// flight until ctx is done, then aborts them.
func (in *Inputs) Stop(ctx context.Context) error {
	done := in.gate.Close()
	errs := []error{in.close()}
	select {
	case <-done:
	case <-ctx.Done():
		errs = append(errs, fmt.Errorf("inputs: in-flight deliveries aborted: %w", ctx.Err()))
	}
	if in.cancel != nil {
		in.cancel()
	}
	<-done
	return errors.Join(errs...)
}

func (in *Inputs) close() error {
	var errs []error
	for _, t := range in.triggers {
		if err := t.in.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close input binding %s: %w", t.comp.Name, err))
		}
	}
	return errors.Join(errs...)
}

// handler delivers one event read by t's binding and reports the outcome
// to the component: nil on ack, an error otherwise (cron ignores it).
func (in *Inputs) handler(t *trigger) bindings.Handler {
	return func(_ context.Context, r *bindings.ReadResponse) ([]byte, error) {
		if !in.gate.Enter() {
			return nil, delivery.ErrStopping
		}
		defer in.gate.Leave()
		ev, err := cloudEvent(t.comp.Name, t.comp.Type, r)
		if err != nil {
			in.log.Error("input binding event dropped: not a valid CloudEvent", "binding", t.comp.Name, "error", err)
			return nil, err
		}
		ctx, span := in.startTrigger(in.life, t, &ev)
		a := in.deliverer.Deliver(ctx, t.function, &ev, t.policy)
		endTrigger(span, a)
		return nil, in.settle(t, ev.ID(), a)
	}
}

func (in *Inputs) settle(t *trigger, id string, a delivery.Answer) error {
	log := in.log.With("binding", t.comp.Name, "function", t.function, "ce.id", id,
		"outcome", a.Outcome.String(), "attempts", a.Attempts)
	if a.Outcome == delivery.Ack {
		log.Debug("triggered")
		return nil
	}
	err := fmt.Errorf("trigger %s from %s: %w", t.function, t.comp.Name, a.Cause())
	log.Error("input binding event not delivered", "error", a.Cause())
	return err
}
