package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/apps"
	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/inputs"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/pubsub/embedded"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/subscriptions"
	"github.com/funcd/funcd/runtime/tracing"
	"golang.org/x/sync/errgroup"
)

// Platform is the running local platform.
type Platform struct {
	cfg Config
	log *slog.Logger

	broker    *broker.Broker
	pubsubs   *pubsub.Registry
	access    *access.Policy // the Components' scopes and topic rules
	builder   *funcbuild.Builder
	runner    *runner.Runner
	activator *activator.Activator
	binding   *subscriptions.Binding
	inputs    *inputs.Inputs
	tracing   *tracing.Provider
	apps      *apps.Apps // nil without Config.Apps
	// forFunctions reports the Subscriptions that deliver to functions.
	forFunctions func(resources.Subscription) bool

	// publishToken is what the functions' publish APIs require: the
	// --api-token, else one made for this run.
	publishToken string

	fnsMu    sync.RWMutex
	fns      map[string]*function // the functions running; the watcher adds and removes
	gateway  *http.Server
	gwAddr   string
	grpcAddr string         // the gateway's gRPC publish API, when served
	services errgroup.Group // sidecar and gateway servers
	cancel   context.CancelFunc
	// stopWatch ends the source watcher (Config.Watch), first on Stop.
	stopWatch context.CancelFunc
	stopOnce  sync.Once
	stopErr   error
}

// Start brings the platform up: resources, broker and components, builds,
// functions with their publish APIs, the binding, then the gateway. On error
// everything started so far is stopped again.
func Start(ctx context.Context, cfg Config) (*Platform, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Platform{cfg: cfg, log: cfg.Logger, fns: map[string]*function{}, publishToken: cfg.APIToken}
	if p.publishToken == "" {
		if p.publishToken, err = newToken(); err != nil {
			return nil, err
		}
	}
	svcCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	if err := p.start(ctx, svcCtx); err != nil {
		stopCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer done()
		return nil, errors.Join(err, p.Stop(stopCtx))
	}
	return p, nil
}

func (p *Platform) start(ctx, svcCtx context.Context) error {
	if err := p.startTracing(ctx); err != nil {
		return err
	}
	set, err := p.loadResources()
	if err != nil {
		return err
	}
	for _, s := range set.Skipped {
		p.log.Info("resource not used by the local platform", "resource", s)
	}
	fns, err := p.discover()
	if err != nil {
		// A function whose func.yaml is wrong is left out, as one that does
		// not build is; the watcher takes it up once its func.yaml changes.
		p.log.Error("functions left out until their func.yaml is fixed", "error", err)
	}
	for _, fn := range fns {
		if len(fn.UnknownFields) > 0 { // misspelled settings would do nothing, silently
			p.log.Warn("func.yaml has fields func does not know; they are ignored", "function", fn.Name,
				"file", filepath.Join(fn.Dir, funcbuild.FuncYAML), "fields", fn.UnknownFields)
		}
	}
	p.forFunctions = forFunctions(p.cfg.Apps != nil, fns)
	if err := p.checkRoutes(set, fns); err != nil {
		return err
	}
	if err := p.openComponents(ctx, set); err != nil {
		return err
	}
	p.access = access.New(set.Components)
	p.activator = activator.New(p.log)
	// Subscriptions and input bindings are checked before the builds, so a
	// configuration error does not wait for them.
	if err := p.newDeliveries(ctx, set, fns); err != nil {
		return err
	}
	if err := p.newRunner(fns); err != nil {
		return err
	}
	// Stamps before the builds, so an edit made while they run is rebuilt.
	ws := p.watchList(fns)
	if err := p.startFunctions(ctx, svcCtx, fns, p.builder.BuildEach(ctx, fns)); err != nil {
		return err
	}
	if err := p.binding.Start(svcCtx); err != nil {
		return err
	}
	if err := p.inputs.Start(svcCtx); err != nil {
		return err
	}
	if err := p.startGateway(svcCtx); err != nil {
		return err
	}
	if err := p.startApps(ctx, set); err != nil {
		return err
	}
	p.services.Go(func() error { trimAfterBursts(svcCtx, trimEvery, p.traffic, p.freeMemory); return nil })
	if p.cfg.Watch {
		watchCtx, stopWatch := context.WithCancel(svcCtx)
		p.stopWatch = stopWatch
		p.services.Go(func() error { p.watch(watchCtx, svcCtx, ws); return nil })
	}
	return nil
}

// AnnotationBatch, set to "true" in a function's func.yaml
// deploy.annotations, opts it in to CloudEvent batches from bulk
// subscriptions (bulkSubscribe.enabled).
const AnnotationBatch = "funcd.dev/batch"

// newDeliveries makes the binding (subscriptions) and the input bindings,
// newRunner makes the builder of the functions and the runner of their
// processes, its output aligned for the names of fns.
func (p *Platform) newRunner(fns []funcbuild.Function) error {
	var err error
	p.builder, err = funcbuild.New(funcbuild.Config{
		CacheDir: p.cfg.CacheDir, Environ: p.cfg.Environ, OnBuild: p.cfg.OnBuild,
	}, p.log)
	if err != nil {
		return err
	}
	p.runner, err = runner.New(runner.Config{
		Environ: p.cfg.Environ, Output: p.cfg.Output, Color: p.cfg.Color, CPUProfileDir: p.cfg.CPUProfileDir,
	}, p.builder, p.log)
	if err != nil {
		return err
	}
	for _, fn := range fns {
		p.runner.Align(fn.Name)
	}
	return nil
}

// which deliver through the activator.
func (p *Platform) newDeliveries(ctx context.Context, set *resources.Set, fns []funcbuild.Function) error {
	target := deliveries{a: p.activator, structured: p.takesHTTP}
	var err error
	if p.binding, err = subscriptions.New(subscriptions.Config{
		Subscriptions: activeSubscriptions(p.functionSubscriptions(set), p.access, p.log), PubSubs: p.pubsubs, Target: target,
		Resiliency: set.Resiliencies, Components: set.Components, Batch: p.takesBatches, Logger: p.log,
		TracerProvider: p.tracerProvider(),
		KeepsAlive:     embedded.KeepsAlive, // every component here is opened by the embedded adapter
	}); err != nil {
		return err
	}
	p.inputs, err = inputs.New(ctx, inputs.Config{
		Components: set.Components, Target: target, Resiliency: set.Resiliencies, Logger: p.log,
		TracerProvider: p.tracerProvider(),
	})
	return err
}

// checkRoutes refuses subscriptions and input bindings whose routes name
// no function.
func (p *Platform) checkRoutes(set *resources.Set, fns []funcbuild.Function) error {
	var errs []error
	missing := func(name string) bool {
		return !slices.ContainsFunc(fns, func(f funcbuild.Function) bool { return f.Name == name })
	}
	for _, sub := range p.functionSubscriptions(set) {
		for _, path := range sub.Paths() {
			if name := resources.Function(path); missing(name) {
				errs = append(errs, fmt.Errorf("%s: subscription %s routes to %q, but %s has no function named %q",
					sub.File, sub.Name, path, p.cfg.FunctionsDir, name))
			}
		}
	}
	for _, c := range set.Components {
		if name := inputs.Function(c); inputs.IsInput(c) && missing(name) {
			errs = append(errs, fmt.Errorf("%s: input binding %s triggers %q (route metadata, else its name), but %s has no function named %q",
				c.File, c.Name, name, p.cfg.FunctionsDir, name))
		}
	}
	return errors.Join(errs...)
}

// startFunctions gives each function its publish API and registers it with
// the activator, which starts instances on demand (min-scale ones now). A
// function whose build failed (buildErrs[i]) is registered as failed: it
// answers with its build error until a build succeeds; the others run.
func (p *Platform) startFunctions(ctx, svcCtx context.Context, fns []funcbuild.Function, buildErrs []error) error {
	for i, fn := range fns {
		if err := p.addFunction(svcCtx, fn, buildErrs[i]); err != nil {
			return err
		}
		if buildErrs[i] != nil {
			p.log.Error("function not started: its build failed; save a fix to build it again", "function", fn.Name)
		}
	}
	if err := p.activator.Start(ctx); err != nil {
		p.log.Error("min-scale instances did not start; they start on the next event", "error", err)
	}
	return nil
}
