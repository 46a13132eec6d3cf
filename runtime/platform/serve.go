package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/funcd/funcd/runtime/gateway"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/sidecar"
)

var _ gateway.Target = (*Platform)(nil)

// Endpoint returns the base URL of the function's ready instance.
func (p *Platform) Endpoint(_ context.Context, name string) (string, error) {
	f, ok := p.fns[name]
	if !ok {
		return "", fmt.Errorf("%w %q", gateway.ErrUnknownFunction, name)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.inst == nil {
		return "", fmt.Errorf("function %s is not running", name)
	}
	return f.inst.URL(), nil
}

// takesCloudEvents reports whether the function is invoked with CloudEvents.
func (p *Platform) takesCloudEvents(name string) bool {
	f, ok := p.fns[name]
	return ok && f.fn.Invoke != runner.InvokeHTTP
}

// Functions lists the functions and their state, for the gateway's GET /.
func (p *Platform) Functions() []gateway.FunctionInfo {
	out := make([]gateway.FunctionInfo, 0, len(p.names))
	for _, name := range p.names {
		f := p.fns[name]
		f.mu.Lock()
		info := gateway.FunctionInfo{Name: name, State: "stopped"}
		if f.inst != nil {
			info.State, info.URL = "running", f.inst.URL()
		}
		f.mu.Unlock()
		out = append(out, info)
	}
	return out
}

// GatewayURL is the base URL of the gateway, e.g. http://127.0.0.1:8080.
func (p *Platform) GatewayURL() string { return "http://" + p.gwAddr }

func (p *Platform) startGateway(svcCtx context.Context) error {
	l, err := net.Listen("tcp", p.cfg.GatewayAddr)
	if err != nil {
		return fmt.Errorf("gateway: %w (is another funcd running? use --port to pick another)", err)
	}
	p.gwAddr = l.Addr().String()
	var opts []sidecar.Option
	if p.cfg.APIToken != "" {
		opts = append(opts, sidecar.WithAPIToken(p.cfg.APIToken))
	}
	publish, err := sidecar.New("gateway", sidecarComponents{p.pubsubs}, append(opts, sidecar.WithLogger(p.log))...)
	if err != nil {
		l.Close()
		return err
	}
	p.gateway = &http.Server{
		Handler: gateway.New(gateway.Config{
			Target: p, Lister: p, Publish: publish.HTTPHandler(), Logger: p.log, CloudEvents: p.takesCloudEvents,
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	p.services.Go(func() error {
		if err := p.gateway.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("gateway: %w", err)
		}
		return nil
	})
	return nil
}

// Stop drains deliveries, stops the gateway and the functions, then the
// publish APIs, the components and the broker. ctx bounds the drain.
func (p *Platform) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

func (p *Platform) stop(ctx context.Context) error {
	var errs []error
	if p.binding != nil {
		errs = append(errs, p.binding.Stop(ctx))
	}
	if p.gateway != nil {
		errs = append(errs, p.gateway.Shutdown(ctx))
	}
	var fnErrs errgroup.Group
	for _, f := range p.fns {
		f.mu.Lock()
		inst := f.inst
		f.inst = nil
		f.mu.Unlock()
		if inst != nil {
			fnErrs.Go(func() error { return inst.Stop(ctx) })
		}
	}
	errs = append(errs, fnErrs.Wait())
	p.cancel()
	errs = append(errs, p.services.Wait())
	if p.pubsubs != nil {
		errs = append(errs, p.pubsubs.Close())
	}
	if p.broker != nil {
		errs = append(errs, p.broker.Close())
	}
	return errors.Join(errs...)
}
