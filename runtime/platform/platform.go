package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/funcd/funcd/runtime/access"
	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/binding"
	"github.com/funcd/funcd/runtime/broker"
	"github.com/funcd/funcd/runtime/inputs"
	"github.com/funcd/funcd/runtime/pubsub"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/sidecar"
	"golang.org/x/sync/errgroup"
)

// Platform is the running local platform.
type Platform struct {
	cfg Config
	log *slog.Logger

	broker    *broker.Broker
	pubsubs   *pubsub.Registry
	access    *access.Policy // the Components' scopes and topic rules
	runner    *runner.Runner
	activator *activator.Activator
	binding   *binding.Binding
	inputs    *inputs.Inputs

	fns      map[string]*function
	names    []string
	gateway  *http.Server
	gwAddr   string
	services errgroup.Group // sidecar and gateway servers
	cancel   context.CancelFunc
	// stopWatch ends the source watcher (Config.Watch), first on Stop.
	stopWatch context.CancelFunc
	stopOnce  sync.Once
	stopErr   error
}

// function is one function with its publish API.
type function struct {
	sidecar  *sidecar.Sidecar
	grpcAddr string
	httpAddr string

	mu sync.Mutex
	fn runner.Function // replaced when the watcher applies a new func.yaml
}

// current returns the function as its func.yaml last described it.
func (f *function) current() runner.Function {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fn
}

func (f *function) set(fn runner.Function) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = fn
}

// Start brings the platform up: resources, broker and components, builds,
// functions with their publish APIs, the binding, then the gateway. On error
// everything started so far is stopped again.
func Start(ctx context.Context, cfg Config) (*Platform, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Platform{cfg: cfg, log: cfg.Logger, fns: map[string]*function{}}
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
	set, err := resources.Load(p.cfg.ResourcesDir, p.cfg.lookup)
	if err != nil {
		return err
	}
	for _, s := range set.Skipped {
		p.log.Info("resource not used by the local platform", "resource", s)
	}
	fns, err := runner.Discover(p.cfg.FunctionsDir)
	if err != nil {
		return err
	}
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
	if p.runner, err = runner.New(runner.Config{
		CacheDir: p.cfg.CacheDir, Environ: p.cfg.Environ, Output: p.cfg.Output,
		Color: p.cfg.Color, OnBuild: p.cfg.OnBuild,
	}, p.log); err != nil {
		return err
	}
	if err := p.runner.Build(ctx, fns); err != nil {
		return err
	}
	if err := p.startFunctions(ctx, svcCtx, fns); err != nil {
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
	if p.cfg.Watch {
		watchCtx, stopWatch := context.WithCancel(svcCtx)
		p.stopWatch = stopWatch
		p.services.Go(func() error { p.watch(watchCtx, fns); return nil })
	}
	return nil
}

// AnnotationBatch, set to "true" in a function's func.yaml
// deploy.annotations, opts it in to CloudEvent batches from bulk
// subscriptions (bulkSubscribe.enabled).
const AnnotationBatch = "funcd.dev/batch"

// newDeliveries makes the binding (subscriptions) and the input bindings,
// which deliver through the activator.
func (p *Platform) newDeliveries(ctx context.Context, set *resources.Set, fns []runner.Function) error {
	batch := func(name string) bool {
		i := slices.IndexFunc(fns, func(f runner.Function) bool { return f.Name == name })
		return i >= 0 && fns[i].Annotations[AnnotationBatch] == "true"
	}
	var err error
	if p.binding, err = binding.New(binding.Config{
		Subscriptions: activeSubscriptions(set.Subscriptions, p.access, p.log), PubSubs: p.pubsubs, Target: deliveries{p.activator},
		Resiliency: set.Resiliencies, Components: set.Components, Batch: batch, Logger: p.log,
	}); err != nil {
		return err
	}
	p.inputs, err = inputs.New(ctx, inputs.Config{
		Components: set.Components, Target: deliveries{p.activator}, Resiliency: set.Resiliencies, Logger: p.log,
	})
	return err
}

// checkRoutes refuses subscriptions and input bindings whose routes name
// no function.
func (p *Platform) checkRoutes(set *resources.Set, fns []runner.Function) error {
	var errs []error
	missing := func(name string) bool {
		return !slices.ContainsFunc(fns, func(f runner.Function) bool { return f.Name == name })
	}
	for _, sub := range set.Subscriptions {
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
// the activator, which starts instances on demand (min-scale ones now).
func (p *Platform) startFunctions(ctx, svcCtx context.Context, fns []runner.Function) error {
	for _, fn := range fns {
		f, err := p.startSidecar(svcCtx, fn)
		if err != nil {
			return err
		}
		p.fns[fn.Name] = f
		p.names = append(p.names, fn.Name)
		opts, err := p.scaling(fn)
		if err != nil {
			return err
		}
		if err := p.activator.Add(fn.Name, p.starter(f), opts); err != nil {
			return err
		}
	}
	return p.activator.Start(ctx)
}

// scaling reads a function's scaling settings from its func.yaml.
func (p *Platform) scaling(fn runner.Function) (activator.Options, error) {
	opts := activator.Options{
		MinScale: int(fn.MinScale), MaxScale: int(fn.MaxScale), Concurrency: int(fn.Concurrency), Idle: p.cfg.Idle,
	}
	if p.cfg.Idle == 0 {
		var err error
		if opts, err = opts.FromAnnotations(fn.Annotations); err != nil {
			return opts, fmt.Errorf("%s: deploy.annotations: %w", filepath.Join(fn.Dir, runner.FuncYAML), err)
		}
	}
	return opts, nil
}

func (p *Platform) startSidecar(svcCtx context.Context, fn runner.Function) (*function, error) {
	var opts []sidecar.Option
	if p.cfg.APIToken != "" {
		opts = append(opts, sidecar.WithAPIToken(p.cfg.APIToken))
	}
	comps := scoped{comps: sidecar.FromRegistry(p.pubsubs), app: fn.Name, policy: p.access, log: p.log}
	sc, err := sidecar.New(fn.Name, comps, append(opts, sidecar.WithLogger(p.log))...)
	if err != nil {
		return nil, err
	}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("publish API for %s: %w", fn.Name, err)
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		gl.Close()
		return nil, fmt.Errorf("publish API for %s: %w", fn.Name, err)
	}
	p.services.Go(func() error { return sc.Serve(svcCtx, gl, hl) })
	return &function{fn: fn, sidecar: sc, grpcAddr: gl.Addr().String(), httpAddr: hl.Addr().String()}, nil
}

// starter starts one instance of f with its publish API's environment.
func (p *Platform) starter(f *function) activator.Starter {
	return func(ctx context.Context) (activator.Instance, error) {
		return p.startInstance(ctx, f)
	}
}

func (p *Platform) startInstance(ctx context.Context, f *function) (*runner.Instance, error) {
	fn := f.current()
	_, grpcPort, _ := net.SplitHostPort(f.grpcAddr)
	_, httpPort, _ := net.SplitHostPort(f.httpAddr)
	env := map[string]string{
		"APP_ID": fn.Name, "DAPR_GRPC_PORT": grpcPort, "DAPR_HTTP_PORT": httpPort,
		"DAPR_GRPC_ENDPOINT": f.grpcAddr, "DAPR_HTTP_ENDPOINT": "http://" + f.httpAddr,
	}
	if p.cfg.APIToken != "" {
		env["DAPR_API_TOKEN"] = p.cfg.APIToken
	}
	if _, set := p.cfg.lookup("FUNC_LOG_LEVEL"); !set {
		env["FUNC_LOG_LEVEL"] = "warn" // func-go's debug lines drown the functions' own
	}
	inst, err := p.runner.Start(ctx, fn, env)
	if err != nil {
		return nil, err
	}
	p.log.Info("function ready", "function", fn.Name, "url", inst.URL(), "pid", inst.PID())
	return inst, nil
}
