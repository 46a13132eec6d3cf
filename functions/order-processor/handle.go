// Package function is the order-processor Knative Function: it receives
// order events, from Dapr pub/sub (structured CloudEvents in Dapr's
// envelope) or from Knative Eventing and curl (binary CloudEvents), and logs
// each order on stdout.
package function

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
)

// Function is the order-processor instance that func-go serves.
type Function struct {
	out     io.Writer
	log     *slog.Logger          // used until Start has read the config
	started atomic.Pointer[state] // nil until Start is done
}

// state is what Start sets up for Handle.
type state struct {
	cfg    Config
	log    *slog.Logger
	tracer *tracer
	fails  failures
}

// New returns an order-processor that logs to stdout. func-go calls it once
// per process.
func New() *Function {
	return newFunction(os.Stdout)
}

func newFunction(out io.Writer) *Function {
	return &Function{out: out, log: newLogger(out, "text")}
}

// Handle logs the order carried by e, one line per order, and replies with
// nothing. An event that is not a valid order gets 400: a permanent failure
// that is dead-lettered, never retried. A request cancelled during the
// processing delay gets 503, so the order is delivered again. The handling
// is order-processor's own span of the order's trace (trace.go).
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	st := f.state()
	ctx, span := st.tracer.start(ctx, e)
	err := st.handle(ctx, e)
	end(span, err)
	return nil, err
}

func (st *state) handle(ctx context.Context, e event.Event) error {
	order, err := decodeOrder(e)
	if err != nil {
		st.log.Warn("order rejected", append(eventAttrs(e), "outcome", "rejected", "error", err)...)
		return cehttp.NewResult(http.StatusBadRequest, "%s", err.Error())
	}
	if st.fails.fail(order.OrderID, st.cfg.FailFirst) {
		st.log.Warn("order failed on purpose (FAIL_FIRST)", append(eventAttrs(e), "outcome", "failed")...)
		return cehttp.NewResult(http.StatusServiceUnavailable, "order %d: failing its first %d deliveries (FAIL_FIRST)", order.OrderID, st.cfg.FailFirst)
	}
	if err := sleep(ctx, st.cfg.ProcessingDelay); err != nil {
		return cehttp.NewResult(http.StatusServiceUnavailable, "order %d not processed: %s", order.OrderID, err)
	}
	st.log.Info(order.String(), traceAttrs(ctx)...)
	return nil
}

// state returns what Start set up, or defaults before that.
func (f *Function) state() *state {
	if st := f.started.Load(); st != nil {
		return st
	}
	return &state{cfg: Config{LogFormat: "text"}, log: f.log}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// eventAttrs identifies e in logs, with Dapr's topic and pubsubname
// extensions when it came through Dapr.
func eventAttrs(e event.Event) []any {
	attrs := []any{"ce.id", e.ID(), "ce.type", e.Type()}
	for _, ext := range [...]struct{ name, key string }{{"topic", "topic"}, {"pubsubname", "pubsub"}} {
		if v, ok := e.Extensions()[ext.name]; ok {
			attrs = append(attrs, ext.key, fmt.Sprint(v))
		}
	}
	return attrs
}

// Start reads the configuration; func-go runs it in its own goroutine and
// Ready reports false until it is done. func-go's cfg map is not needed: see
// Config.
func (f *Function) Start(ctx context.Context, _ map[string]string) error {
	cfg, err := loadConfig()
	if err != nil {
		return fmt.Errorf("order-processor config: %w", err)
	}
	tr, err := newTracer(ctx, "order-processor", os.Getenv)
	if err != nil {
		return fmt.Errorf("order-processor tracing: %w", err)
	}
	f.started.Store(&state{cfg: cfg, log: newLogger(f.out, cfg.LogFormat), tracer: tr})
	return nil
}

// Stop exports the spans still buffered; func-go calls it after the HTTP
// server has drained.
func (f *Function) Stop(ctx context.Context) error {
	if st := f.started.Load(); st != nil {
		return st.tracer.shutdown(ctx)
	}
	return nil
}

// Ready reports whether Start has finished.
func (f *Function) Ready(context.Context) (bool, error) {
	return f.started.Load() != nil, nil
}
