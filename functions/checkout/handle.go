// Package function is the checkout Knative Function: it validates an order
// CloudEvent, publishes the order to a Dapr pub/sub topic and replies with a
// com.example.order.accepted event.
package function

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/cloudevents/sdk-go/v2/event"
	cehttp "github.com/cloudevents/sdk-go/v2/protocol/http"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
)

// Attributes of the reply event.
const (
	AcceptedType   = "com.example.order.accepted"
	AcceptedSource = "checkout"
)

// Outcomes other than an invalid order (see errInvalidOrder).
var (
	errNotReady = errors.New("checkout is not ready: still connecting to the Dapr sidecar")
	errPublish  = errors.New("publish order")
)

// Function is the checkout function instance that func-go serves.
type Function struct {
	out  io.Writer    // where logs go
	log  *slog.Logger // used until Start has read the config
	dial dialFunc

	conn  atomic.Pointer[conn] // nil until Start has connected, and after Stop
	ticks atomic.Int64         // cron ticks seen: the next demo order's id

	mu      sync.Mutex
	cancel  context.CancelFunc // cancels a Start that is still connecting
	stopped bool
}

// conn is what Handle needs once Start has connected.
type conn struct {
	cfg Config
	pub publisher
	log *slog.Logger
}

// New returns a checkout instance that logs to stdout and publishes
// through the Dapr Go SDK. func-go calls it once per process.
func New() *Function {
	return newFunction(os.Stdout, dialDapr)
}

func newFunction(out io.Writer, dial dialFunc) *Function {
	return &Function{out: out, log: newLogger(out, "text"), dial: dial}
}

// Handle validates the order in e, publishes it and replies with an
// accepted event. Invalid orders get 400, a publish the sidecar's access
// rules forbid gets 403, an order too large for the sidecar or the broker
// gets 413, all final; a missing sidecar connection or another failed
// publish gets 503, which Knative Eventing and Dapr both retry.
func (f *Function) Handle(ctx context.Context, e event.Event) (*event.Event, error) {
	reply, err := f.checkout(eventTrace(ctx, e), e)
	if err != nil {
		return nil, f.reject(e, err)
	}
	return reply, nil
}

func (f *Function) checkout(ctx context.Context, e event.Event) (*event.Event, error) {
	order, err := f.order(e)
	if err != nil {
		return nil, err
	}
	c := f.conn.Load()
	if c == nil {
		return nil, errNotReady
	}
	if err := c.pub.PublishEvent(ctx, c.cfg.PubsubName, c.cfg.Topic, order); err != nil {
		return nil, fmt.Errorf("%w %d to %s/%s: %w", errPublish, order.OrderID, c.cfg.PubsubName, c.cfg.Topic, err)
	}
	data, err := json.Marshal(order)
	if err != nil {
		return nil, fmt.Errorf("encode order %d: %w", order.OrderID, err)
	}
	c.log.Info("Published data: "+string(data), traceAttrs(ctx)...)
	return accepted(order, data)
}

// CronType is the type of the events a Dapr cron input binding sends.
const CronType = "com.dapr.binding.cron"

// order is the order an event carries; a cron tick makes the next demo
// order, as the original publisher's loop did: orderId N, "Customer N",
// amount N*10.0, status Pending.
func (f *Function) order(e event.Event) (Order, error) {
	if e.Type() != CronType {
		return decodeOrder(e)
	}
	n := int(f.ticks.Add(1))
	return Order{OrderID: n, CustomerName: "Customer " + strconv.Itoa(n), Amount: float64(n) * 10, Status: "Pending"}, nil
}

// reject logs a failed delivery once and turns it into the HTTP result
// func-go sends back: the one place where outcomes become status codes.
func (f *Function) reject(e event.Event, err error) error {
	status, outcome := http.StatusServiceUnavailable, "retry"
	switch {
	case errors.Is(err, errInvalidOrder):
		status, outcome = http.StatusBadRequest, "rejected"
	case grpcstatus.Code(err) == codes.PermissionDenied:
		// The sidecar's access rules (scopes, publishingScopes, protected
		// topics) refuse the topic: no retry will change that.
		status, outcome = http.StatusForbidden, "forbidden"
	case grpcstatus.Code(err) == codes.ResourceExhausted:
		// Over gRPC's message limit (4 MiB), or the broker's (funcd's
		// publish API answers ResourceExhausted for both): final too.
		status, outcome = http.StatusRequestEntityTooLarge, "too large"
	case grpcstatus.Code(err) == codes.InvalidArgument:
		// The sidecar refuses the request itself (e.g. an invalid topic).
		status, outcome = http.StatusBadRequest, "rejected"
	}
	f.logger().Warn("order not accepted", "ce.id", e.ID(), "ce.type", e.Type(),
		"outcome", outcome, "error", err)
	return cehttp.NewResult(status, "%s", err.Error())
}

func (f *Function) logger() *slog.Logger {
	if c := f.conn.Load(); c != nil {
		return c.log
	}
	return f.log
}

// accepted builds the reply event for an order published as data.
func accepted(order Order, data []byte) (*event.Event, error) {
	reply := event.New()
	reply.SetID(uuid.NewString())
	reply.SetType(AcceptedType)
	reply.SetSource(AcceptedSource)
	reply.SetSubject(strconv.Itoa(order.OrderID))
	if err := reply.SetData(event.ApplicationJSON, data); err != nil {
		return nil, fmt.Errorf("set reply data: %w", err)
	}
	return &reply, nil
}
