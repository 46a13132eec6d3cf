package platform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/funcd/funcd/runtime/activator"
	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/gateway"
	"github.com/funcd/funcd/runtime/sidecar"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// requests and deliveries let the gateway and the binding acquire
// instances through the activator, counted apart. Deliveries to plain HTTP
// functions carry structured CloudEvents (delivery.StructuredTarget).
type (
	requests   struct{ a *activator.Activator }
	deliveries struct {
		a          *activator.Activator
		structured func(function string) bool
	}
)

var (
	_ gateway.Target            = requests{}
	_ delivery.StructuredTarget = deliveries{}
)

func (r requests) Acquire(ctx context.Context, name string) (string, func(bool), error) {
	url, release, err := r.a.Acquire(ctx, name, activator.Request)
	if errors.Is(err, activator.ErrUnknownFunction) {
		err = fmt.Errorf("%w: %w", gateway.ErrUnknownFunction, err)
	}
	return url, release, err
}

func (d deliveries) Acquire(ctx context.Context, name string) (string, func(bool), error) {
	return d.a.Acquire(ctx, name, activator.Delivery)
}

func (d deliveries) Structured(name string) bool { return d.structured(name) }

// Functions lists the functions and their state, for the gateway's GET /.
func (p *Platform) Functions() []gateway.FunctionInfo {
	var out []gateway.FunctionInfo
	for _, st := range p.Status() {
		out = append(out, gateway.FunctionInfo{
			Name: st.Function, State: st.State, Instances: st.Instances, InFlight: st.InFlight,
			ColdStarts: st.ColdStarts, ColdStartP50: st.ColdStartP50.Round(100 * time.Microsecond).String(),
			ColdStartP99: st.ColdStartP99.Round(100 * time.Microsecond).String(),
			Requests:     st.Requests, Deliveries: st.Deliveries, Failures: st.Failures, Error: st.Error,
		})
	}
	return out
}

// Subscriptions lists the subscriptions and what they did with their
// messages, for the gateway's GET /.
// Dapr apps' subscriptions are named "<app id> (app)".
func (p *Platform) Subscriptions() []gateway.SubscriptionInfo {
	if p.binding == nil {
		return nil
	}
	var out []gateway.SubscriptionInfo
	add := func(name string, st subscriptions.SubscriptionStatus) {
		out = append(out, gateway.SubscriptionInfo{
			Name: name, PubSub: st.PubSub, Topic: st.Topic, Delivered: st.Delivered,
			DeadLettered: st.DeadLettered, Dropped: st.Dropped, Returned: st.Returned, Retries: st.Retries,
		})
	}
	for _, st := range p.binding.Status() {
		add(st.Name, st)
	}
	for _, a := range p.Apps() {
		for _, st := range a.Subscriptions {
			add(a.ID+" (app)", st)
		}
	}
	return out
}

// Status reports every function's state and counters.
func (p *Platform) Status() []activator.Status {
	if p.activator == nil {
		return nil
	}
	return p.activator.Status()
}

// GatewayURL is the base URL of the gateway, e.g. http://127.0.0.1:8080.
func (p *Platform) GatewayURL() string { return "http://" + p.gwAddr }

// GRPCAddr is the address of the gateway's gRPC publish API, empty when
// Config.GRPCAddr did not ask for one.
func (p *Platform) GRPCAddr() string { return p.grpcAddr }

func (p *Platform) startGateway(svcCtx context.Context) error {
	l, err := net.Listen("tcp", p.cfg.GatewayAddr)
	if err != nil {
		return fmt.Errorf("gateway: %w (is another funcd running? use --port to pick another)", err)
	}
	p.gwAddr = l.Addr().String()
	opts := []sidecar.Option{sidecar.WithTracerProvider(p.tracerProvider())}
	if p.cfg.APIToken != "" {
		opts = append(opts, sidecar.WithAPIToken(p.cfg.APIToken))
	}
	publish, err := sidecar.New("gateway", sidecar.FromRegistry(p.pubsubs), append(opts, sidecar.WithLogger(p.log))...)
	if err != nil {
		l.Close()
		return err
	}
	if err := p.serveGRPC(svcCtx, publish); err != nil {
		l.Close()
		return err
	}
	p.gateway = gateway.NewServer(gateway.New(gateway.Config{
		Target: requests{p.activator}, Lister: p, Publish: publish.HTTPHandler(), Metrics: p.Metrics(),
		Logger: p.log, CloudEvents: p.takesCloudEvents, OnIdle: debug.FreeOSMemory, APIToken: p.cfg.APIToken,
		TracerProvider: p.tracerProvider(), Traces: p.traces(),
	}), gateway.Timeouts{}, p.log)
	p.services.Go(func() error {
		if err := p.gateway.Serve(l); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("gateway: %w", err)
		}
		return nil
	})
	return nil
}

// serveGRPC serves the gateway's publish API over gRPC on Config.GRPCAddr,
// when one is set, until svcCtx ends.
func (p *Platform) serveGRPC(svcCtx context.Context, publish *sidecar.Sidecar) error {
	if p.cfg.GRPCAddr == "" {
		return nil
	}
	l, err := net.Listen("tcp", p.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("grpc publish api: %w (use --grpc-port to pick another port)", err)
	}
	p.grpcAddr = l.Addr().String()
	p.services.Go(func() error { return publish.Serve(svcCtx, l, nil) })
	return nil
}

// Stop drains deliveries (input bindings, then subscriptions), stops the
// gateway and the functions, then the publish APIs, the components and the
// broker. ctx bounds the drain.
func (p *Platform) Stop(ctx context.Context) error {
	p.stopOnce.Do(func() { p.stopErr = p.stop(ctx) })
	return p.stopErr
}

func (p *Platform) stop(ctx context.Context) error {
	var errs []error
	if p.stopWatch != nil {
		p.stopWatch()
	}
	if p.apps != nil {
		errs = append(errs, p.apps.Stop(ctx))
	}
	if p.inputs != nil {
		errs = append(errs, p.inputs.Stop(ctx))
	}
	if p.binding != nil {
		errs = append(errs, p.binding.Stop(ctx))
	}
	if p.gateway != nil {
		errs = append(errs, p.gateway.Shutdown(ctx))
	}
	if p.activator != nil {
		errs = append(errs, p.activator.Stop(ctx))
	}
	p.cancel()
	errs = append(errs, p.services.Wait(), p.stopTracing(ctx))
	if p.pubsubs != nil {
		errs = append(errs, p.pubsubs.Close())
	}
	if p.broker != nil {
		errs = append(errs, p.broker.Close())
	}
	return errors.Join(errs...)
}
