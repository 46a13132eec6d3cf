package function

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	dapr "github.com/dapr/go-sdk/client"
)

// publisher is the part of the Dapr client checkout uses.
type publisher interface {
	PublishEvent(ctx context.Context, pubsubName, topic string, data any, opts ...dapr.PublishEventOption) error
	Close()
}

var _ publisher = dapr.Client(nil)

// dialFunc connects to the Dapr sidecar at addr.
type dialFunc func(ctx context.Context, addr string) (publisher, error)

// dialDapr connects with a client of our own: unlike dapr.NewClient it
// keeps no process-wide singleton, so Stop can really close it. The
// connection is ours too (sidecar.go): it keeps the trace context of the
// context Handle gets on every publish.
func dialDapr(ctx context.Context, addr string) (publisher, error) {
	conn, err := dialSidecar(ctx, addr, os.Getenv("DAPR_API_TOKEN"))
	if err != nil {
		return nil, err
	}
	return dapr.NewClientWithConnection(conn), nil
}

// redialDelay is the pause between two attempts to reach the sidecar; each
// attempt itself waits up to DAPR_CLIENT_TIMEOUT_SECONDS (default 5s).
const redialDelay = time.Second

// Start reads the configuration and connects to the Dapr sidecar, retrying
// until it answers: daprd often starts after the function. func-go runs
// Start in its own goroutine and does not wait; Ready reports false and
// Handle answers 503 until Start has connected. func-go's cfg map is not
// needed: see Config.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	cfg, err := loadConfig()
	if err != nil {
		return fmt.Errorf("checkout config: %w", err)
	}
	tr, err := newTracer(ctx, "checkout", os.Getenv)
	if err != nil {
		return fmt.Errorf("checkout tracing: %w", err)
	}
	f.tracer.Store(tr)
	log := newLogger(f.out, cfg.LogFormat)
	ctx, ok := f.starting(ctx)
	if !ok {
		return nil // stopped before it started
	}
	pub, err := redial(ctx, f.dial, cfg.DaprAddress(), log)
	if err != nil {
		log.Warn("start abandoned", "error", err)
		return nil // cancelled by Stop or shutdown: not a failure
	}
	if !f.connected(&conn{cfg: cfg, pub: pub, log: log}) {
		pub.Close()
		return nil
	}
	log.Info("connected to Dapr sidecar", "addr", cfg.DaprAddress(),
		"pubsub", cfg.PubsubName, "topic", cfg.Topic)
	return nil
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

// connected publishes c to Handle, or reports false after Stop.
func (f *Function) connected(c *conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	f.conn.Store(c)
	return true
}

// redial calls dial until it succeeds or ctx ends.
func redial(ctx context.Context, dial dialFunc, addr string, log *slog.Logger) (publisher, error) {
	for {
		pub, err := dial(ctx, addr)
		if err == nil {
			return pub, nil
		}
		log.Warn("Dapr sidecar not reachable yet", "addr", addr, "error", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("connect to Dapr sidecar at %s: %w", addr, ctx.Err())
		case <-time.After(redialDelay):
		}
	}
}

// Stop cancels a Start still connecting, closes the sidecar connection and
// exports the spans still buffered. func-go calls it after the HTTP server
// has drained.
func (f *Function) Stop(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stopped = true
	if f.cancel != nil {
		f.cancel()
	}
	if c := f.conn.Swap(nil); c != nil {
		c.pub.Close()
	}
	return f.tracer.Load().shutdown(ctx)
}

// Ready reports whether Start has connected to the sidecar.
func (f *Function) Ready(context.Context) (bool, error) {
	return f.conn.Load() != nil, nil
}

// Alive always reports true: a missing sidecar makes checkout unready, not
// dead, because restarting the container would not bring daprd back.
func (f *Function) Alive(context.Context) (bool, error) {
	return true, nil
}
