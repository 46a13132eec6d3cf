package platform

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"sync"

	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/funcbuild"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/sidecar"
)

// function is one function with its publish API.
type function struct {
	sidecar  *sidecar.Sidecar
	grpcAddr string
	httpAddr string
	stopAPI  context.CancelFunc // ends the publish API

	mu sync.Mutex
	fn funcbuild.Function // replaced when the watcher applies a new func.yaml
}

// current returns the function as its func.yaml last described it.
func (f *function) current() funcbuild.Function {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fn
}

func (f *function) set(fn funcbuild.Function) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fn = fn
}

// lookup returns the function named name, if funcd runs it.
func (p *Platform) lookup(name string) (*function, bool) {
	p.fnsMu.RLock()
	defer p.fnsMu.RUnlock()
	f, ok := p.fns[name]
	return f, ok
}

// addFunction gives fn its publish API and registers it with the
// activator, which starts its instances on demand (after Activator.Start,
// its min-scale ones at once). buildErr, when set, is why fn has no build:
// it is registered as failed until a build succeeds.
func (p *Platform) addFunction(svcCtx context.Context, fn funcbuild.Function, buildErr error) error {
	opts, err := p.scaling(fn)
	if err != nil {
		return err
	}
	p.fnsMu.Lock()
	defer p.fnsMu.Unlock()
	if other, dup := p.fns[fn.Name]; dup {
		return fmt.Errorf("%s: name: %q is also the name of %s", filepath.Join(fn.Dir, funcbuild.FuncYAML), fn.Name,
			filepath.Join(other.current().Dir, funcbuild.FuncYAML))
	}
	f, err := p.startSidecar(svcCtx, fn)
	if err != nil {
		return err
	}
	if err := p.activator.Add(fn.Name, p.starter(f), opts); err != nil {
		f.stopAPI()
		return err
	}
	if buildErr != nil {
		_ = p.activator.Fail(fn.Name, buildErr) // added just above
	}
	p.fns[fn.Name] = f
	return nil
}

// removeFunction stops the function's instances and its publish API.
func (p *Platform) removeFunction(ctx context.Context, name string) error {
	p.fnsMu.Lock()
	f, ok := p.fns[name]
	delete(p.fns, name)
	p.fnsMu.Unlock()
	if !ok {
		return fmt.Errorf("%w %q", activator.ErrUnknownFunction, name)
	}
	err := p.activator.Remove(ctx, name)
	f.stopAPI()
	return err
}

// scaling reads a function's scaling settings from its func.yaml.
func (p *Platform) scaling(fn funcbuild.Function) (activator.Options, error) {
	opts := activator.Options{
		MinScale: int(fn.MinScale), MaxScale: int(fn.MaxScale), Concurrency: int(fn.Concurrency), Idle: p.cfg.Idle,
	}
	if p.cfg.Idle == 0 {
		var err error
		if opts, err = opts.FromAnnotations(fn.Annotations); err != nil {
			return opts, fmt.Errorf("%s: deploy.annotations: %w", filepath.Join(fn.Dir, funcbuild.FuncYAML), err)
		}
	}
	return opts, nil
}

// startSidecar serves fn's publish API until svcCtx ends or stopAPI.
func (p *Platform) startSidecar(svcCtx context.Context, fn funcbuild.Function) (*function, error) {
	opts := []sidecar.Option{sidecar.WithAPIToken(p.publishToken), sidecar.WithTracerProvider(p.tracerProvider())}
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
	ctx, stop := context.WithCancel(svcCtx)
	p.services.Go(func() error { return sc.Serve(ctx, gl, hl) })
	return &function{fn: fn, sidecar: sc, grpcAddr: gl.Addr().String(), httpAddr: hl.Addr().String(), stopAPI: stop}, nil
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
		"DAPR_API_TOKEN": p.publishToken,
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

// takesCloudEvents reports whether the function is invoked with CloudEvents.
func (p *Platform) takesCloudEvents(name string) bool {
	f, ok := p.lookup(name)
	return ok && f.current().Invoke != funcbuild.InvokeHTTP
}

// takesHTTP reports whether the function is a plain HTTP function
// (func.yaml invoke: http).
func (p *Platform) takesHTTP(name string) bool {
	f, ok := p.lookup(name)
	return ok && f.current().Invoke == funcbuild.InvokeHTTP
}

// takesBatches reports whether the function opted in to CloudEvent batches.
func (p *Platform) takesBatches(name string) bool {
	f, ok := p.lookup(name)
	return ok && f.current().Annotations[AnnotationBatch] == "true"
}
