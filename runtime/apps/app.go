package apps

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"strconv"
	"sync"
	"time"

	runtimev1pb "github.com/dapr/dapr/pkg/proto/runtime/v1"
	"google.golang.org/grpc"

	"github.com/funcd/funcd/runtime/delivery"
	"github.com/funcd/funcd/runtime/multiapp"
	"github.com/funcd/funcd/runtime/resources"
	"github.com/funcd/funcd/runtime/runner"
	"github.com/funcd/funcd/runtime/sidecar"
	"github.com/funcd/funcd/runtime/subscriptions"
)

// readyTimeout bounds the wait for an app to listen on its port: long
// enough for a command that compiles first (`go run .`, `mvn ...`).
const readyTimeout = 5 * time.Minute

// app is one running app: its Dapr API, its process, its deliveries.
type app struct {
	spec               multiapp.App
	apiToken, appToken string
	httpPort, grpcPort int
	stopAPI            context.CancelFunc
	apiDone            chan error
	inst               *runner.Instance // nil: not started by funcd
	bindingMu          sync.Mutex
	binding            *subscriptions.Binding             // nil: no subscriptions, or paused while the app is unhealthy
	bindingCfg         subscriptions.Config               // to start the binding again once the app is healthy
	past               []subscriptions.SubscriptionStatus // what stopped bindings did, for Status
	stopHealth         func()                             // ends the health probes; nil without them
	conn               *grpc.ClientConn                   // gRPC apps' AppCallback
	switchMu           sync.Mutex                         // serialises starting, stopping and rebinding deliveries
	releases           []func()                           // free the topics the subscriptions claimed
	stopRebind         context.CancelFunc                 // ends rebinds after restarts
	rebinds            sync.WaitGroup

	topicsMu sync.Mutex
	topics   map[string]string // pubsub/topic -> where its subscription comes from
}

// claim records that the app subscribes to key; an app reads a topic once.
func (ap *app) claim(key, from string) (release func(), err error) {
	ap.topicsMu.Lock()
	defer ap.topicsMu.Unlock()
	if prev, dup := ap.topics[key]; dup {
		return nil, fmt.Errorf("the app already subscribes to %s (%s)", key, prev)
	}
	if ap.topics == nil {
		ap.topics = map[string]string{}
	}
	ap.topics[key] = from
	return func() {
		ap.topicsMu.Lock()
		delete(ap.topics, key)
		ap.topicsMu.Unlock()
	}, nil
}

func (a *Apps) start(ctx context.Context, spec multiapp.App) (*app, error) {
	ap := &app{spec: spec, apiToken: a.cfg.APIToken}
	var err error
	if ap.apiToken == "" {
		if ap.apiToken, err = newToken(); err != nil {
			return nil, err
		}
	}
	if ap.appToken, err = newToken(); err != nil {
		return nil, err
	}
	if err := a.serveAPI(ap); err != nil {
		return nil, err
	}
	if err := a.run(ctx, ap); err != nil {
		return ap, errors.Join(err, ap.stop(ctx))
	}
	if err := a.subscribe(ctx, ap); err != nil {
		return ap, errors.Join(err, ap.stop(ctx))
	}
	return ap, nil
}

// serveAPI serves the app's Dapr API on its ports (free ones unless the
// template gives them), behind the app's token.
func (a *Apps) serveAPI(ap *app) error {
	sc, err := sidecar.New(ap.spec.ID, a.cfg.Components(ap.spec.ID), sidecar.WithAPIToken(ap.apiToken),
		sidecar.WithLogger(a.log.With("app", ap.spec.ID)), sidecar.WithSubscriber(streamer{a: a, ap: ap}))
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ap.spec.HTTPPort))
	if err != nil {
		return fmt.Errorf("dapr http api (daprHTTPPort): %w", err)
	}
	gl, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ap.spec.GRPCPort))
	if err != nil {
		hl.Close()
		return fmt.Errorf("dapr grpc api (daprGRPCPort): %w", err)
	}
	ap.httpPort, ap.grpcPort = hl.Addr().(*net.TCPAddr).Port, gl.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithCancel(context.Background())
	ap.stopAPI, ap.apiDone = cancel, make(chan error, 1)
	go func() { ap.apiDone <- sc.Serve(ctx, gl, hl) }()
	a.log.Info("app dapr api", "app", ap.spec.ID, "http_port", ap.httpPort, "grpc_port", ap.grpcPort)
	return nil
}

// environ is what daprd and the Dapr CLI give an app, over the template's
// env.
func (ap *app) environ() map[string]string {
	env := maps.Clone(ap.spec.Env)
	if env == nil {
		env = map[string]string{}
	}
	maps.Copy(env, map[string]string{
		"APP_ID": ap.spec.ID, "DAPR_HTTP_PORT": strconv.Itoa(ap.httpPort), "DAPR_GRPC_PORT": strconv.Itoa(ap.grpcPort),
		"DAPR_HTTP_ENDPOINT": "http://127.0.0.1:" + strconv.Itoa(ap.httpPort),
		"DAPR_GRPC_ENDPOINT": "127.0.0.1:" + strconv.Itoa(ap.grpcPort),
		"DAPR_API_TOKEN":     ap.apiToken, "APP_API_TOKEN": ap.appToken,
	})
	if ap.spec.Port != 0 {
		env["APP_PORT"] = strconv.Itoa(ap.spec.Port)
		env["APP_PROTOCOL"] = ap.spec.Protocol
	}
	return env
}

// run starts the app's command and waits until it listens on its port
// (and its health check path answers 2xx), or, without a command, waits
// for the app someone else started.
func (a *Apps) run(ctx context.Context, ap *app) error {
	var ready func(context.Context) bool
	if ap.spec.Port != 0 {
		ready = func(ctx context.Context) bool { return a.listening(ctx, ap) }
	}
	if len(ap.spec.Command) > 0 {
		rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		ap.stopRebind = cancel
		restarted := func() { ap.rebinds.Go(func() { a.rebind(rctx, ap) }) }
		inst, err := a.cfg.Runner.Run(ctx, runner.Command{Name: ap.spec.ID, Args: ap.spec.Command, Dir: ap.spec.Dir,
			Env: ap.environ(), Ready: ready, ReadyTimeout: readyTimeout, Restarted: restarted})
		if err != nil {
			return err
		}
		ap.inst = inst
		return nil
	}
	if ready == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for !ready(ctx) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no command, and nothing listens on appPort %d: %w", ap.spec.Port, context.Cause(ctx))
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil
}

// listening probes the app's health check path, or else its port.
func (a *Apps) listening(ctx context.Context, ap *app) bool {
	if ap.spec.HealthCheckPath == "" || ap.spec.Protocol == multiapp.ProtocolGRPC {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", ap.baseAddr())
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	return a.getHealth(ctx, ap)
}

func (ap *app) baseAddr() string { return "127.0.0.1:" + strconv.Itoa(ap.spec.Port) }
func (ap *app) baseURL() string  { return "http://" + ap.baseAddr() }

// subscribe reads the app's programmatic subscriptions, adds the
// declarative ones its daprd would load, and starts delivering.
func (a *Apps) subscribe(ctx context.Context, ap *app) error {
	if ap.spec.Port == 0 {
		return nil
	}
	var grpcApp subscriptions.AppCallback
	if ap.spec.Protocol == multiapp.ProtocolGRPC {
		var err error
		if ap.conn, err = dialApp(ap.baseAddr()); err != nil {
			return err
		}
		grpcApp = grpcAppClient{runtimev1pb.NewAppCallbackClient(ap.conn), runtimev1pb.NewAppCallbackAlphaClient(ap.conn)}
	}
	subs, err := a.subscriptions(ctx, ap)
	if err != nil {
		return err
	}
	var set resources.Set
	if a.cfg.Resources != nil {
		set = *a.cfg.Resources
	}
	ap.bindingCfg = subscriptions.Config{
		Subscriptions: subs, PubSubs: a.cfg.PubSubs, Target: target(ap.baseURL()),
		Retry:      delivery.RetryPolicy{Multiplier: 1}, // daprd retries in-process only under a Resiliency policy
		Resiliency: set.Resiliencies, Components: set.Components, KeepsAlive: a.cfg.KeepsAlive,
		App: &subscriptions.App{ID: ap.spec.ID, Token: ap.appToken, GRPC: grpcApp}, Logger: a.log.With("app", ap.spec.ID),
	}
	if len(subs) > 0 {
		if err := ap.startBinding(ctx); err != nil {
			return err
		}
		a.log.Info("app subscribed", "app", ap.spec.ID, "subscriptions", describe(subs))
	}
	if ap.spec.HealthCheck != nil {
		ap.stopHealth = a.watchHealth(ap)
	}
	return nil
}

// subscriptions asks the app for its programmatic subscriptions and adds
// the declarative ones its daprd would load (read when funcd started),
// claiming each topic for the app.
func (a *Apps) subscriptions(ctx context.Context, ap *app) ([]resources.Subscription, error) {
	var prog []programmatic
	var err error
	if ap.spec.Protocol == multiapp.ProtocolGRPC {
		prog, err = discoverGRPC(ctx, ap.conn, ap.appToken)
	} else {
		prog, err = discover(ctx, a.client, ap.baseURL(), ap.appToken)
	}
	if err != nil {
		return nil, err
	}
	var subs []resources.Subscription
	add := func(s resources.Subscription) {
		if err := a.cfg.SubscribeAllowed(ap.spec.ID, s.PubsubName, s.Topic); err != nil {
			a.log.Warn("subscription not started", "app", ap.spec.ID, "from", s.File, "topic", topicKey(s), "reason", err)
			return
		}
		release, err := ap.claim(topicKey(s), s.File)
		if err != nil {
			a.log.Warn("subscription left out", "app", ap.spec.ID, "topic", topicKey(s), "from", s.File, "reason", err)
			return
		}
		ap.releases = append(ap.releases, release)
		s.Name = ap.spec.ID // daprd's consumer group is the app id
		subs = append(subs, s)
	}
	for _, p := range prog {
		add(p.resource(ap.spec.ID))
	}
	var set resources.Set
	if a.cfg.Resources != nil {
		set = *a.cfg.Resources
	}
	for _, s := range Declared(set.Subscriptions, ap.spec.ID, ap.spec.ResourcesPaths, a.cfg.ForFunctions) {
		add(s)
	}
	return subs, nil
}

// startBinding starts delivering the app's subscriptions.
func (ap *app) startBinding(ctx context.Context) error {
	ap.switchMu.Lock()
	defer ap.switchMu.Unlock()
	return ap.startBindingLocked(ctx)
}

// startBindingLocked is startBinding with switchMu held; a running binding
// is kept.
func (ap *app) startBindingLocked(ctx context.Context) error {
	ap.bindingMu.Lock()
	running := ap.binding != nil
	ap.bindingMu.Unlock()
	if running || len(ap.bindingCfg.Subscriptions) == 0 {
		return nil
	}
	b, err := subscriptions.New(ap.bindingCfg)
	if err != nil {
		return err
	}
	if err := b.Start(ctx); err != nil {
		return errors.Join(err, b.Stop(ctx))
	}
	ap.bindingMu.Lock()
	ap.binding = b
	ap.bindingMu.Unlock()
	return nil
}

// stopBinding stops delivering (in-flight deliveries drain until ctx ends;
// the broker keeps the rest).
func (ap *app) stopBinding(ctx context.Context) error {
	ap.switchMu.Lock()
	defer ap.switchMu.Unlock()
	return ap.stopBindingLocked(ctx)
}

func (ap *app) stopBindingLocked(ctx context.Context) error {
	ap.bindingMu.Lock()
	b := ap.binding
	ap.binding = nil
	ap.bindingMu.Unlock()
	if b == nil {
		return nil
	}
	err := b.Stop(ctx)
	ap.bindingMu.Lock()
	ap.past = addCounts(ap.past, b.Status())
	ap.bindingMu.Unlock()
	return err
}

// addCounts adds the counts of b to a, subscription by subscription (both
// list the same subscriptions in the same order, or a is empty).
func addCounts(a, b []subscriptions.SubscriptionStatus) []subscriptions.SubscriptionStatus {
	if len(a) != len(b) {
		return append([]subscriptions.SubscriptionStatus(nil), b...)
	}
	out := make([]subscriptions.SubscriptionStatus, len(b))
	for i := range b {
		out[i] = b[i]
		c, p := &out[i].Counts, a[i].Counts
		c.Delivered += p.Delivered
		c.DeadLettered += p.DeadLettered
		c.Dropped += p.Dropped
		c.Returned += p.Returned
		c.Retries += p.Retries
	}
	return out
}

// stop ends deliveries, then the process, then the Dapr API.
func (ap *app) stop(ctx context.Context) error {
	var errs []error
	if ap.stopRebind != nil {
		ap.stopRebind() // a rebind under way gives up
	}
	if ap.stopHealth != nil {
		ap.stopHealth()
		ap.stopHealth = nil
	}
	errs = append(errs, ap.stopBinding(ctx))
	if ap.conn != nil {
		errs = append(errs, ap.conn.Close())
		ap.conn = nil
	}
	if ap.inst != nil {
		errs = append(errs, ap.inst.Stop(ctx))
		ap.rebinds.Wait() // no restart can start one now
	}
	if ap.stopAPI != nil {
		ap.stopAPI()
		errs = append(errs, <-ap.apiDone)
		ap.stopAPI = nil
	}
	return errors.Join(errs...)
}

func (ap *app) status() Status {
	st := Status{ID: ap.spec.ID, HTTPPort: ap.httpPort, GRPCPort: ap.grpcPort}
	if ap.inst != nil {
		select {
		case <-ap.inst.Done():
		default:
			st.PID = ap.inst.PID()
		}
	}
	ap.bindingMu.Lock()
	st.Subscriptions = ap.past
	if ap.binding != nil {
		st.Subscriptions = addCounts(ap.past, ap.binding.Status())
	}
	ap.bindingMu.Unlock()
	return st
}

// target is an app's base URL; every route path is under it.
type target string

func (t target) Acquire(context.Context, string) (string, func(bool), error) {
	return string(t), func(bool) {}, nil
}

// grpcAppClient is a gRPC app's AppCallback (OnTopicEvent) and
// AppCallbackAlpha (OnBulkTopicEventAlpha1) services.
type grpcAppClient struct {
	runtimev1pb.AppCallbackClient
	runtimev1pb.AppCallbackAlphaClient
}
