package function

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"time"

	daprc "github.com/dapr/go-sdk/client"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/dapr"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/subscriptions"
	"github.com/funcd/funcd/runtime/tracing"
)

// running is what Start set up.
type running struct {
	cfg     Config
	log     *slog.Logger
	client  daprc.Client
	comps   *components
	binding *subscriptions.Binding
	tracing *tracing.Provider // nil when OTEL_SDK_DISABLED
}

// dialFunc connects to the sidecar.
type dialFunc func(ctx context.Context, addr, token string) (daprc.Client, error)

func dialSidecar(ctx context.Context, addr, token string) (daprc.Client, error) {
	return dapr.Dial(ctx, addr, token)
}

// retryDelay is the pause between attempts to reach the sidecar.
const retryDelay = time.Second

// Start reads the configuration and the Subscriptions, connects to the
// sidecar (retrying until it answers: daprd often starts after the app),
// waits until it has loaded the pub/sub components, and opens the
// subscriptions. func-go runs Start in a goroutine; Ready is false until it
// is done. A configuration error ends the process.
func (f *Function) Start(ctx context.Context, cfgMap map[string]string) error {
	cfg, err := loadConfig(cfgMap)
	if err != nil {
		return fmt.Errorf("binding config: %w", err)
	}
	log := cfg.logger()
	if err := tracing.ConfigFromEnv(os.LookupEnv).Validate(); err != nil {
		return fmt.Errorf("binding config: %w", err)
	}
	set, err := resources.Load(cfg.ResourcesPath, os.LookupEnv)
	if err != nil {
		return fmt.Errorf("binding resources: %w", err)
	}
	if err := subscriptions.Check(bindingConfig(set, log)); err != nil {
		return fmt.Errorf("binding resources: %w", err)
	}
	ctx, ok := f.starting(ctx)
	if !ok {
		return nil
	}
	for {
		r, err := f.connect(ctx, cfg, log, set)
		if err == nil {
			if !f.started(r) {
				return r.close(context.Background())
			}
			log.Info("binding ready", "sidecar", cfg.DaprAddress(), "subscriptions", len(set.Subscriptions))
			return nil
		}
		log.Warn("binding not ready yet", "sidecar", cfg.DaprAddress(), "error", err)
		select {
		case <-ctx.Done():
			return nil // stopped while connecting: not a failure
		case <-time.After(retryDelay):
		}
	}
}

// connect dials the sidecar and opens every subscription.
func (f *Function) connect(ctx context.Context, cfg Config, log *slog.Logger, set *resources.Set) (*running, error) {
	client, err := f.dial(ctx, cfg.DaprAddress(), cfg.APIToken)
	if err != nil {
		return nil, err
	}
	r := &running{cfg: cfg, log: log, client: client}
	names := []string{cfg.PubsubName}
	for _, s := range set.Subscriptions {
		names = append(names, s.PubsubName)
	}
	wait, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := dapr.WaitComponents(wait, client, names...); err != nil {
		return nil, errors.Join(err, r.close(ctx))
	}
	if r.comps, err = openComponents(client, log, names); err != nil {
		return nil, errors.Join(err, r.close(ctx))
	}
	if r.tracing, err = newTracing(ctx); err != nil {
		return nil, errors.Join(err, r.close(ctx))
	}
	bc := bindingConfig(set, log)
	bc.PubSubs, bc.Target, bc.TracerProvider = r.comps, urls(cfg), r.tracerProvider()
	r.binding, err = subscriptions.New(bc)
	if err == nil {
		// Subscriptions outlive ctx: Stop drains them, then closes them.
		err = r.binding.Start(context.WithoutCancel(ctx))
	}
	if err != nil {
		return nil, errors.Join(err, r.close(ctx))
	}
	return r, nil
}

// bindingConfig is what the resources tell the binding; connect adds the
// sidecar's components and the function URLs.
func bindingConfig(set *resources.Set, log *slog.Logger) subscriptions.Config {
	return subscriptions.Config{Subscriptions: set.Subscriptions, Resiliency: set.Resiliencies, Components: set.Components, Logger: log}
}

// starting registers a cancel func for Stop, or reports false after Stop.
func (f *Function) starting(ctx context.Context) (context.Context, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return ctx, false
	}
	ctx, f.cancel = context.WithCancel(ctx)
	return ctx, true
}

// started publishes r to Handle and Ready, or reports false after Stop.
func (f *Function) started(r *running) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	f.run.Store(r)
	return true
}

// Stop turns the binding unready, drains in-flight deliveries (bounded by
// ctx: the rest are not acknowledged, so the broker delivers them again),
// then closes the subscriptions and the sidecar connection.
func (f *Function) Stop(ctx context.Context) error {
	f.mu.Lock()
	f.stopped = true
	if f.cancel != nil {
		f.cancel()
	}
	r := f.run.Swap(nil)
	f.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.close(ctx)
}

// close drains the binding, then releases the adapters and the client.
func (r *running) close(ctx context.Context) error {
	var errs []error
	if r.binding != nil {
		errs = append(errs, r.binding.Stop(ctx))
	}
	if r.comps != nil {
		errs = append(errs, r.comps.Close())
	}
	r.client.Close()
	if r.tracing != nil {
		errs = append(errs, r.tracing.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// Ready reports whether every subscription is live.
func (f *Function) Ready(context.Context) (bool, error) {
	return f.run.Load() != nil, nil
}

// Alive always reports true: a missing sidecar makes the binding unready,
// not dead.
func (f *Function) Alive(context.Context) (bool, error) {
	return true, nil
}

// components holds one dapr adapter per pub/sub component the binding is
// configured with (PUBSUB_NAME and the ones its subscriptions name), all
// opened by Start: an incoming event cannot make it open another.
type components struct {
	byName map[string]*dapr.PubSub
}

// openComponents opens an adapter for each distinct name.
func openComponents(c daprc.Client, log *slog.Logger, names []string) (*components, error) {
	cs := &components{byName: make(map[string]*dapr.PubSub, len(names))}
	for _, name := range names {
		if _, ok := cs.byName[name]; ok {
			continue
		}
		ps, err := dapr.New(c, name, dapr.Options{Logger: log})
		if err != nil {
			return nil, errors.Join(fmt.Errorf("pub/sub component %s: %w", name, err), cs.Close())
		}
		cs.byName[name] = ps
	}
	return cs, nil
}

// Get returns the adapter for the sidecar's component name, if configured.
func (c *components) Get(name string) (pubsub.PubSub, bool) {
	ps, ok := c.byName[name]
	return ps, ok
}

// names lists the configured component names, sorted.
func (c *components) names() []string { return slices.Sorted(maps.Keys(c.byName)) }

// Close closes every adapter.
func (c *components) Close() error {
	var errs []error
	for _, ps := range c.byName {
		errs = append(errs, ps.Close())
	}
	clear(c.byName)
	return errors.Join(errs...)
}

// target resolves function names to URLs; nothing to start or release.
type target func(function string) string

func urls(cfg Config) target { return cfg.FunctionURL }

// Acquire returns the function's URL.
func (t target) Acquire(_ context.Context, function string) (string, func(bool), error) {
	return t(function), func(bool) {}, nil
}

var _ delivery.Target = target(nil)
